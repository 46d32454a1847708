"""A board's table rows, written in Python: the template engine spent most of a 50-row page's time on them
(some thirty lookups and filters per row), and a board page is the site's busiest. The cells are the same
as the template's would be; every value goes through format_html's escaping."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from leaderboard.templatetags.zooboard import giga, interval, metric, millions, percent, rate

register = template.Library()
DASH = "–"


@register.simple_tag
def board_row(shown_row, shown, beside, query, pinned: bool = False) -> str:
    """One entry's <tr> (and, in ranking order, its notes on the next entry)."""
    row, figures, submission = shown_row.row, shown_row.figures, shown_row.row.submission
    classes = " ".join(
        name
        for name, on in (("tied", shown_row.tied_with_next), ("baseline", submission.is_baseline), ("pinned", pinned))
        if on
    )
    tie = _tie_words(row)
    cells = [
        format_html('<td class="num rank">{}</td><td class="num interval-rank">{}</td>', row.rank, row.interval_rank),
        format_html(
            '<td><a href="{}">{}</a>{}{}</td><td>{}</td>',
            reverse("submission", args=[submission.pk]),
            submission.name,
            mark_safe(' <span class="badge" title="a reference model marked by the moderators">baseline</span>')
            if submission.is_baseline
            else "",
            format_html(
                ' <span class="tie" title="statistically tied with the next entry of the ranking ({})">≈</span>', tie
            )
            if shown_row.tied_with_next and not query.in_board_order
            else "",
            submission.owner.username,
        ),
        *(_metric_cell(figures, column.metric) for column in shown.columns),
        *(_beside_cell(shown_row, other.name) for other in beside),
        _cost_cells(submission.efficiency or {}),
        format_html("<td>{}</td>", submission.finished_at.strftime("%Y-%m-%d") if submission.finished_at else ""),
    ]
    html = format_html('<tr class="{}">{}</tr>', classes, mark_safe("".join(cells)))
    if query.in_board_order and not pinned:
        if shown_row.overtaken_at is not None:
            html += format_html(
                '<tr class="tie-note"><td></td><td></td><td colspan="99">↓ the next entry overtakes this one once {} '
                "of the test set is originally mislabeled (label-noise curve)</td></tr>",
                percent(shown_row.overtaken_at),
            )
        if shown_row.tied_with_next:
            html += format_html(
                '<tr class="tie-note"><td></td><td></td><td colspan="99">≈ statistically tied with the next entry '
                "({})</td></tr>",
                tie,
            )
    return mark_safe(html)


def _tie_words(row) -> str:
    """ "McNemar exact, p = 0.754": the test that tied it and its p-value."""
    if row.p_value_next is None:
        return row.tie_test_title
    return f"{row.tie_test_title}, p = {row.p_value_next:.3f}"


def _metric_cell(figures, key: str) -> str:
    why = (figures.staff_only.get("metrics") or {}).get(key)
    classes = f"num {key}" + (" staff-only" if why else "")
    title = format_html(' title="{}"', why) if why else ""
    if key not in figures.metrics:
        return format_html('<td class="{}"{}><span class="value">{}</span></td>', classes, title, DASH)
    ci = interval(figures.intervals.get(key))
    return format_html(
        '<td class="{}"{}><span class="value">{}</span>{}</td>',
        classes,
        title,
        metric(figures.metrics[key], key),
        format_html(' <small class="ci">{}</small>', ci) if ci else "",
    )


def _beside_cell(shown_row, name: str) -> str:
    headline = shown_row.beside_headlines.get(name)
    why = headline.get("reason") if headline else None
    value = headline["value"] if headline and headline.get("value") is not None else None
    return format_html(
        '<td class="num beside {}"{}>{}</td>',
        name,
        format_html(' title="{}"', why) if why else "",
        metric(value, headline["metric"]) if value is not None else DASH,
    )


def _cost_cells(cost: dict) -> str:
    latency = cost.get("latency") or {}
    machine = (cost.get("machine") or {}).get("device", "")
    precision = (cost.get("precision") or {}).get("precision", "")
    return format_html_join(
        "",
        '<td class="num cost {}"{}>{}</td>',
        [
            ("parameters", "", millions(cost.get("parameters"))),
            ("macs", "", giga(cost.get("macs"))),
            (
                "throughput",
                format_html(' title="{}, {}, batch {}"', machine, precision, cost.get("batch_size", "")),
                rate(cost.get("throughput")),
            ),
            (
                "latency",
                format_html(' title="p95 {} ms"', f"{latency['p95_ms']:.2f}") if latency.get("p95_ms") else "",
                f"{latency['p50_ms']:.2f} ms" if latency.get("p50_ms") is not None else DASH,
            ),
        ],
    )
