"""How django-allauth treats our accounts: an address must be confirmed before an account made by signing up can
sign in; accounts staff made without one (in the admin, or by `manage.py ensure_user`) sign in as before."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.account.stages import EmailVerificationStage


class ConfirmedAddressStage(EmailVerificationStage):
    """allauth's own check (a confirmed address, else the confirmation mail again), for accounts that have an
    address on record with allauth, as every sign-up does."""

    def handle(self):
        if not EmailAddress.objects.filter(user=self.login.user).exists():
            return None, True
        return super().handle()


class AccountAdapter(DefaultAccountAdapter):
    def get_login_stages(self) -> list[str]:
        return [
            f"{__name__}.ConfirmedAddressStage" if path == "allauth.account.stages.EmailVerificationStage" else path
            for path in super().get_login_stages()
        ]
