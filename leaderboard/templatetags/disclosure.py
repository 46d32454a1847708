"""The small-slice rule in templates: a leaderboard table as the signed-in user may see it."""

from __future__ import annotations

from django import template

from leaderboard import disclosure

register = template.Library()


@register.simple_tag
def board(rows, columns, user, label_set_name: str = "original") -> disclosure.Board:
    """{% board rows columns user label_set.name as shown %}: see leaderboard/disclosure.py's board()."""
    return disclosure.board(rows, columns or [], user, label_set_name or "original")
