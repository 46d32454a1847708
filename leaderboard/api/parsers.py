"""The API's parsers: DRF's, but a body too deeply nested or malformed is refused with a sentence, not a 500."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser
from rest_framework.parsers import MultiPartParser as DRFMultiPartParser

# Imports nothing of ours: DRF imports this module while it builds its APIView (DEFAULT_PARSER_CLASSES).
NESTED_TOO_DEEPLY = "nested too deeply to read"


class JSONParser(DRFJSONParser):
    """Also reads NaN and Infinity, as Python's json does, so that the recipe (the one place that judges
    recipe values) refuses them with its own sentence, whether preprocessing comes as JSON or as a form string;
    no other field takes a number. (The body's size is Django's DATA_UPLOAD_MAX_MEMORY_SIZE to check.)"""

    strict = False

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # json's C scanner gives up after about 1,000 levels of [ or {: ours to refuse, not a crash
            raise ParseError(f"the request body's JSON is {NESTED_TOO_DEEPLY}") from None
        except ParseError as error:
            reason = str(error.detail).removeprefix("JSON parse error - ")
            raise ParseError(f"the request body is not valid JSON: {reason}") from None


class MultiPartParser(DRFMultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as error:
            reason = str(error.detail).removeprefix("Multipart form parse error - ")
            raise ParseError(f"the multipart form could not be read: {reason}") from None
