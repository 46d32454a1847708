"""Turning published human annotations into label-set arrays (pure numpy, shared by test-set readers)."""
