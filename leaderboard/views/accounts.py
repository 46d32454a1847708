"""A signed-in user's API tokens (create, list, revoke), and the sign-in page shown while a username is locked."""

from __future__ import annotations

from datetime import timedelta

from allauth.account.forms import LoginForm
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Max
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from knox.settings import knox_settings

from leaderboard.models import ApiToken

EXPIRY_DAYS = (30, 90, 365)


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. the machine or script using it.")
    expires_in = forms.TypedChoiceField(
        choices=[(days, f"{days} days") for days in EXPIRY_DAYS], coerce=int, initial=90, label="Expires in"
    )


def create_token(user, name: str, days: int) -> tuple[ApiToken, str]:
    """A new token and its key: the key exists only in this return value, the database keeps its digest."""
    return ApiToken.objects.create(user=user, expiry=timedelta(days=days), name=name)


def _page(request, form: TokenForm, new_key: str = "", status: int = 200):
    tokens = ApiToken.objects.filter(user=request.user)
    context = {"form": form, "tokens": tokens, "new_key": new_key}
    return render(request, "leaderboard/tokens.html", context, status=status)


@never_cache  # the response that shows a new key must not be kept by a browser or a proxy
@login_required
def api_tokens(request):
    form = TokenForm(request.POST or None)
    if request.method != "POST":
        return _page(request, form)
    if not form.is_valid():
        return _page(request, form, status=400)
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    live = ApiToken.objects.filter(user=request.user, expiry__gt=timezone.now()).count()
    if limit is not None and live >= limit:
        form.add_error(None, f"You already have {live} API tokens, the most allowed: revoke one first.")
        return _page(request, form, status=400)
    _, key = create_token(request.user, form.cleaned_data["name"], form.cleaned_data["expires_in"])
    return _page(request, TokenForm(), new_key=key)


@login_required
@require_POST
def revoke_token(request):
    # the digest identifies a token without revealing its key; filtering by owner keeps others' tokens out of reach
    revoked, _ = ApiToken.objects.filter(user=request.user, digest=request.POST.get("digest", "")).delete()
    if revoked:
        messages.info(request, "The API token was revoked: it no longer works.")
    else:
        messages.error(request, "There is no such API token to revoke.")
    return redirect("api-tokens")


def locked_out(request, original_response=None, credentials=None):
    """django-axes calls this (AXES_LOCKOUT_CALLABLE) once a username has too many wrong passwords."""
    username = get_client_username(request, credentials) or ""
    cool_off = get_cool_off(request) or timedelta(0)
    last = AccessAttempt.objects.filter(username=username).aggregate(last=Max("attempt_time"))["last"]
    until = (last or timezone.now()) + cool_off
    minutes = round(cool_off.total_seconds() / 60)
    sentence = (
        f"Too many wrong passwords for {username}: signing in is locked for {minutes} minutes, "
        f"until {until:%H:%M} UTC, even with the right password."
    )
    context = {
        "form": LoginForm(request=request, initial={"login": username}),
        "lockout": sentence,
        "redirect_field_name": "next",
        "redirect_field_value": request.POST.get("next", ""),
    }
    return render(request, "account/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
