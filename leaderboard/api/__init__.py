"""The REST API: submissions, test sets, leaderboards. Token or session auth; errors as {"error": "..."}."""
