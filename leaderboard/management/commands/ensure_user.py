"""manage.py ensure_user NAME --password P [--staff]: create or update a user (demo and test set-up)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create the user if missing, set the password, and print the user's API token."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--staff", action="store_true", help="a superuser who can moderate in the admin")

    def handle(self, username, password, staff, **options):
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        user.is_staff = user.is_superuser = staff
        user.save()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(f"user {username}: API token {token.key}")
