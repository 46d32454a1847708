from django.apps import AppConfig


class LeaderboardConfig(AppConfig):
    name = "leaderboard"
    verbose_name = "Zooboard leaderboard"

    def ready(self):
        from leaderboard import signals  # noqa: F401  (re-ranks boards on deletions and direct saves)
