"""The sign-in stage that asks for a confirmed address (leaderboard/accounts.py names it by path). A module of its
own: allauth's stages module imports the adapter, which must not import it back."""

from __future__ import annotations

# allauth's stages module, imported first, meets a cycle of allauth's own (stages -> internal -> flows ->
# stagekit -> stages); its internal package first, as allauth's own views import them
import allauth.account.internal  # noqa: F401  isort: skip
from allauth.account.models import EmailAddress
from allauth.account.stages import EmailVerificationStage


class ConfirmedAddressStage(EmailVerificationStage):
    """allauth's own check (a confirmed address, else the confirmation mail again), for accounts that have an
    address on record with allauth, as every sign-up does; accounts staff made without one sign in as before."""

    def handle(self):
        if not EmailAddress.objects.filter(user=self.login.user).exists():
            return None, True
        return super().handle()
