"""Built-in label protocols: what counts as right under each kind of label set."""
