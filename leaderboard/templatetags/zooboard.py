"""Template filters for showing metrics."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from django import template

from leaderboard import columns
from leaderboard.boards import DEFAULT_PER_PAGE
from leaderboard.columns import is_loss

register = template.Library()


@register.simple_tag
def board_link(query, **changes) -> str:
    """A link to the same board with some parameters changed (None removes one); the page goes back to 1
    unless it is what changes."""
    params = {**query.params(), "page": str(query.page), "per_page": str(query.per_page)}
    if "page" not in changes:
        params.pop("page")
    params.update({key: value for key, value in changes.items()})
    if params.get("per_page") == str(DEFAULT_PER_PAGE):
        params.pop("per_page")
    return "?" + urlencode({key: value for key, value in params.items() if value not in (None, "")})


@register.simple_tag
def sort_link(query, key: str) -> str:
    """The column header's link: sorts by it in its own direction, or flips the order if it is the sort."""
    if query.sort == key:
        return board_link(query, order="asc" if query.descending else "desc")
    return board_link(query, sort=key, order=None)


@register.filter
def get_item(mapping, key):
    """mapping[key] in a template (a list by position), or None."""
    if isinstance(mapping, dict):
        return mapping.get(key)
    if isinstance(mapping, list | tuple) and isinstance(key, int) and 0 <= key < len(mapping):
        return mapping[key]
    return None


@register.filter
def percent(value) -> str:
    """0.8103 -> '81.03%'; missing or NaN -> an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value) * 100:.2f}%"


@register.filter
def metric(value, name: str) -> str:
    """A metric as people read it: accuracies and shares in percent, losses as plain numbers."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.4f}" if is_loss(name) else percent(value)


@register.filter
def difference(value, name: str) -> str:
    """A difference of two figures: accuracies and shares in percentage points, losses as plain numbers."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):+.4f}" if is_loss(name) else f"{float(value) * 100:+.2f} pts"


@register.filter
def interval(pair) -> str:
    """[0.80, 0.82] -> '80.25–81.79'; nothing when absent."""
    if not pair or None in pair:
        return ""
    low, high = pair
    return f"{low * 100:.2f}–{high * 100:.2f}"


@register.filter
def metric_title(name: str) -> str:
    return columns.metric_title(name)


@register.filter
def count_title(key: str) -> str:
    return columns.count_title(key)


@register.filter
def millions(count) -> str:
    """851018 -> '0.85 M': parameter counts as model cards give them."""
    if not _is_number(count):
        return "–"
    return f"{count / 1e6:.2f} M" if count < 1e7 else f"{count / 1e6:.1f} M"


@register.filter
def giga(count) -> str:
    """126813066 -> '0.127': multiply-accumulates in billions."""
    if not _is_number(count):
        return "–"
    return f"{count / 1e9:.3f}" if count < 1e10 else f"{count / 1e9:.1f}"


@register.filter
def mebibytes(count) -> str:
    return f"{count / 2**20:,.0f} MiB" if _is_number(count) else "–"


@register.filter
def rate(value) -> str:
    """Images per second, without false precision."""
    return f"{value:,.0f}" if _is_number(value) else "–"


def _is_number(value) -> bool:
    """Missing figures reach filters as None or, from a failed lookup, as the empty string."""
    return isinstance(value, int | float) and not isinstance(value, bool)


STEP_TITLES = {
    "load": "model load",
    "pixels": "test set pixels",
    "precision": "precision check",
    "to_first_batch": "task start to first batch",
    "run": "run",
    "latency": "latency runs",
    "score": "scoring",
}


@register.filter
def step_title(step: str) -> str:
    """The evaluation's timed steps as the submission page names them."""
    return STEP_TITLES.get(step, step.replace("_", " "))
