"""The command-line client: submit models, follow them, read leaderboards. Talks to the REST API only."""
