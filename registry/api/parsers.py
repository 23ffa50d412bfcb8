"""Request parsers of the API: a body that cannot be read is a 400, never a server error."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class RegistryJSONParser(JSONParser):
    """DRF's JSON parser, refusing a document nested deeper than Python's recursion limit.

    ``json.loads`` raises RecursionError (not a ValueError) on e.g. ten thousand nested
    arrays, which DRF's parser lets through as a 500; no CRF payload nests beyond a few
    levels, so such a body is a malformed request.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - the document is nested too deeply.") from error
