"""Built-in metrics: small pure functions of stored predictions and targets."""
