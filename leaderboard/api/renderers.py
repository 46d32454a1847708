"""The CSV export's media type, so that content negotiation (?format=csv, Accept: text/csv) chooses it; the view
streams the body itself (leaderboard/boards.py), so this renderer never renders a page."""

from __future__ import annotations

from rest_framework.renderers import BaseRenderer


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        raise NotImplementedError("the board's CSV export is streamed by the view; errors are answered in JSON")
