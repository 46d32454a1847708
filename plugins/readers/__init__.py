"""Built-in test-set readers: each turns raw files into a hidden test set and reads its images back."""
