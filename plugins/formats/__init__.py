"""Built-in model formats."""
