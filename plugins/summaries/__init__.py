"""Built-in summaries: one figure about a label set's per-example results, beside the slices' worst ones."""
