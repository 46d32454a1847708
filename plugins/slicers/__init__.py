"""Built-in slicers: named subsets of a test set to break results down by."""
