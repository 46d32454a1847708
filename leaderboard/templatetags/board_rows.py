"""A board's table rows, written in Python: the template engine spent most of a 50-row page's time on them
(some thirty lookups and filters per row), and a board page is the site's busiest. The cells are the same
as the template's would be. Every value is escaped with the standard library's html.escape, put into plain
f-strings: format_html's SafeString machinery cost a third of a freshly made page (some 15,000 calls)."""

from __future__ import annotations

from html import escape

from django import template
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.safestring import mark_safe

from leaderboard.templatetags.zooboard import giga, interval, metric, millions, percent, rate

register = template.Library()
DASH = "–"
NOTE = '<tr class="tie-note"><td></td><td></td><td></td><td colspan="99">'  # under the Model column
BASELINE = ' <span class="badge" title="a reference model marked by the moderators">baseline</span>'


@register.simple_tag
def board_row(shown_row, shown, beside, query, pinned: bool = False) -> str:
    """One entry's <tr> (and, in ranking order, its notes on the next entry)."""
    row, figures, submission = shown_row.row, shown_row.figures, shown_row.row.submission
    on = (("tied", shown_row.tied_with_next), ("baseline", submission.is_baseline), ("pinned", pinned))
    classes = " ".join(name for name, flag in on if flag)
    tie = escape(_tie_words(row))
    tie_mark = (
        f' <span class="tie" title="statistically tied with the next entry of the ranking ({tie})">≈</span>'
        if shown_row.tied_with_next and not query.in_board_order
        else ""
    )
    cells = [
        f'<td class="pick"><input type="checkbox" name="id" value="{submission.pk}" '
        f'aria-label="compare {escape(submission.name)}"></td>',
        f'<td class="num rank">{row.rank}</td><td class="num interval-rank">{row.interval_rank}</td>',
        f'<td><a href="{_submission_url(submission.pk)}">{escape(submission.name)}</a>'
        f"{_card_links(submission)}{BASELINE if submission.is_baseline else ''}{tie_mark}</td>"
        f'<td class="owner">{escape(submission.owner.username)}</td>',
        *(_metric_cell(figures, column.metric, extra=index > 0) for index, column in enumerate(shown.columns)),
        *(_beside_cell(shown_row, other.name) for other in beside),
        _cost_cells(submission.efficiency or {}),
        f'<td class="evaluated">{submission.finished_at.strftime("%Y-%m-%d") if submission.finished_at else ""}</td>',
    ]
    html = f'<tr class="{classes}">{"".join(cells)}</tr>'
    if query.in_board_order and not pinned:
        if shown_row.overtaken_at is not None:
            html += (
                f"{NOTE}↓ the next entry overtakes this one once "
                f"{percent(shown_row.overtaken_at)} of the test set is originally mislabeled (label-noise curve)"
                "</td></tr>"
            )
        if shown_row.tied_with_next:
            html += f"{NOTE}≈ statistically tied with the next entry ({tie})</td></tr>"
    return mark_safe(html)


def _submission_url(pk: int) -> str:
    return reverse("submission", args=[pk])


def _card_links(submission) -> str:
    """The model card's links, as the submitter gave them (web addresses only: Submission's validators)."""
    links = (("paper", submission.paper_url), ("code", submission.code_url))
    return "".join(
        f' <a class="card-link" href="{escape(url)}" rel="nofollow noopener ugc" title="the {kind}">{kind}</a>'
        for kind, url in links
        if url
    )


def _tie_words(row) -> str:
    """ "McNemar exact, p = 0.754": the test that tied it and its p-value."""
    if row.p_value_next is None:
        return row.tie_test_title
    return f"{row.tie_test_title}, p = {row.p_value_next:.3f}"


def _metric_cell(figures, key: str, extra: bool = False) -> str:
    """extra: a column after the headline (a phone's narrow board leaves them out)."""
    why = (figures.staff_only.get("metrics") or {}).get(key)
    classes = f"num {escape(key)}" + (" extra" if extra else "") + (" staff-only" if why else "")
    title = f' title="{escape(why)}"' if why else ""
    if key not in figures.metrics:
        return f'<td class="{classes}"{title}><span class="value">{DASH}</span></td>'
    ci = interval(figures.intervals.get(key))
    ci = f' <small class="ci">{ci}</small>' if ci else ""
    return f'<td class="{classes}"{title}><span class="value">{metric(figures.metrics[key], key)}</span>{ci}</td>'


def _beside_cell(shown_row, name: str) -> str:
    headline = shown_row.beside_headlines.get(name)
    why = headline.get("reason") if headline else None
    value = headline["value"] if headline and headline.get("value") is not None else None
    title = f' title="{escape(why)}"' if why else ""
    shown = metric(value, headline["metric"]) if value is not None else DASH
    return f'<td class="num beside {escape(name)}"{title}>{shown}</td>'


def _cost_cells(cost: dict) -> str:
    latency = cost.get("latency") or {}
    machine = escape((cost.get("machine") or {}).get("device", ""))
    precision = escape((cost.get("precision") or {}).get("precision", ""))
    batch = escape(str(cost.get("batch_size", "")))
    # rounded as the submission page's floatformat rounds them (half up), so both pages show the same digits
    p95 = f' title="p95 {floatformat(latency["p95_ms"], 2)} ms"' if latency.get("p95_ms") else ""
    p50 = f"{floatformat(latency['p50_ms'], 2)} ms" if latency.get("p50_ms") is not None else DASH
    return (
        f'<td class="num cost parameters">{millions(cost.get("parameters"))}</td>'
        f'<td class="num cost macs">{giga(cost.get("macs"))}</td>'
        f'<td class="num cost throughput" title="{machine}, {precision}, batch {batch}">'
        f"{rate(cost.get('throughput'))}</td>"
        f'<td class="num cost latency"{p95}>{p50}</td>'
    )
