"""Plugin contracts and the built-in plugins. Nothing here imports Django."""
