"""manage.py ensure_user NAME --password P [--staff] [--days N]: create or update a user and print a new API
token as the last line, `API token <key>` (the demo and scripts read it)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from leaderboard.views.accounts import create_token

TOKEN_NAME = "manage.py ensure_user"


class Command(BaseCommand):
    help = "Create the user if missing, set the password, and print a new API token (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--staff", action="store_true", help="a superuser who can moderate in the admin")
        parser.add_argument("--days", type=int, default=90, help="days until the new token expires (default 90)")

    def handle(self, username, password, staff, days, **options):
        if days <= 0:
            raise CommandError(f"--days must be a positive number of days, not {days}")
        user, created = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        user.is_staff = user.is_superuser = staff
        user.save()
        # Only a digest is stored, so an earlier key cannot be printed again: each run makes a new token and
        # leaves the earlier ones working until they expire or are revoked on the API tokens page.
        token, key = create_token(user, TOKEN_NAME, days)
        action = "created" if created else "updated"
        self.stdout.write(f"user {username} {action}; a new API token, expiring {token.expiry:%Y-%m-%d}:")
        self.stdout.write(f"API token {key}")
