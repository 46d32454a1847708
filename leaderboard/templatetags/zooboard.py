"""Template filters for showing metrics."""

from __future__ import annotations

import math

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """mapping[key] in a template, or None."""
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def percent(value) -> str:
    """0.8103 -> '81.03%'; missing or NaN -> an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value) * 100:.2f}%"
