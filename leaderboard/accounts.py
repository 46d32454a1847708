"""How django-allauth treats our accounts: an address must be confirmed before an account made by signing up can
sign in; accounts staff made without one (in the admin, or by `manage.py ensure_user`) sign in as before."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter

ALLAUTH_CHECK = "allauth.account.stages.EmailVerificationStage"
OURS = "leaderboard.account_stages.ConfirmedAddressStage"


class AccountAdapter(DefaultAccountAdapter):
    def get_login_stages(self) -> list[str]:
        return [OURS if path == ALLAUTH_CHECK else path for path in super().get_login_stages()]
