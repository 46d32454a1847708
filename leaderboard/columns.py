"""What each board shows, as its label protocol plugin declares it (plugins/contracts.py: Column): the columns,
their titles and which way is better. Nothing here names a built-in protocol: a third party's gets the same."""

from __future__ import annotations

from functools import cache

from plugins import registry
from plugins.contracts import Column


def _protocol(name: str):
    try:
        return registry.get("label_protocol", name)
    except LookupError:  # a label set whose plugin is no longer installed: a board with no columns
        return None


def board_columns(protocol_name: str | None) -> list[Column]:
    """The board's columns, the headline's first."""
    protocol = _protocol(protocol_name) if protocol_name else None
    return list(getattr(protocol, "columns", ())) if protocol else []


def headline_column(protocol_name: str) -> Column | None:
    """The column the board ranks by (the protocol's headline metric)."""
    protocol = _protocol(protocol_name)
    if protocol is None:
        return None
    named = {column.metric: column for column in getattr(protocol, "columns", ())}
    return named.get(protocol.headline, Column(protocol.headline, protocol.headline))


def _described() -> dict[str, Column]:
    return _described_for(tuple(registry.names("label_protocol")))


@cache
def _described_for(protocols: tuple[str, ...]) -> dict[str, Column]:
    """metric -> its Column, over these protocols (a metric name means the same under each); kept per set of
    installed protocols, since templates ask for every cell."""
    described: dict[str, Column] = {}
    for name in protocols:
        protocol = registry.get("label_protocol", name)
        for column in (*getattr(protocol, "other_metrics", ()), *getattr(protocol, "columns", ())):
            described.setdefault(column.metric, column)
    return described


def is_loss(metric: str) -> bool:
    column = _described().get(metric)
    return bool(column and column.lower_is_better)


def metric_title(metric: str) -> str:
    """The longest name a protocol gives the metric (its description, else its column title), else the key."""
    column = _described().get(metric)
    return (column.description or column.title) if column else metric


def title_under(protocol: str, metric: str) -> str:
    """The metric's column title under this protocol (the same metric is "Top-1" on one board, "Clean top-1" on
    another), else metric_title()."""
    column = next((c for c in board_columns(protocol) if c.metric == metric), None)
    return column.title if column else metric_title(metric)


# what a label set's counts are, in words (the protocols' keys: plugins/protocols/); a third party's key is shown
# with its underscores as spaces
COUNT_TITLES = {
    "scored": "images scored",
    "left_out": "left out (no plausible label)",
    "multi_label": "with several plausible labels",
    "clean": "labels confirmed",
    "correctable": "labels corrected",
    "multi-label": "with two right labels",
    "neither": "neither label right (left out)",
    "non-agreement": "annotators disagreed (left out)",
    "errors": "label errors found",
}


def count_title(key: str) -> str:
    return COUNT_TITLES.get(key, key.replace("_", " "))
