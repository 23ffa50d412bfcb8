"""Pagination of every list of the API: keyset (cursor) pages, no ``COUNT(*)``.

A registry list grows to hundreds of thousands of patients and millions of CRF rows. Page
``n`` of an OFFSET list walks past every row before it, and the total DRF adds to each page is a
``COUNT(*)`` over the whole (scoped, filtered) list: both grow with the table. Here a page is
read from where the previous one stopped (``WHERE id > <last id> ORDER BY id LIMIT n``), through
the primary key or a ``(filter field, id)`` index, so page 10,000 costs what page 1 costs.

Two ways to page, chosen by the query:

- **cursor** (the default): ``?page_size=`` (1-500, default 50); follow ``next`` until it is
  null. Rows come in ascending id, i.e. in the order they were created, so a client syncing a
  list follows the tail. No total is returned: a total of a scoped, filtered list can only be
  counted (an estimate would be a plausible wrong number for a filtered list).
- **limit/offset** (kept for existing clients of small lists): ``?limit=`` and/or ``?offset=``.
  The offset may not exceed ``MAX_OFFSET``, and ``count`` is exact only up to ``COUNT_CAP``
  rows: above that it is null and ``count_capped`` is true (the count reads at most
  ``COUNT_CAP + 1`` rows, never the whole table). Beyond that, use the cursor.
"""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, LimitOffsetPagination, _positive_int
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_OFFSET = 10_000
COUNT_CAP = 10_000


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """Limit/offset for small lists: a bounded offset and a count that stops at ``COUNT_CAP``."""

    default_limit = PAGE_SIZE
    max_limit = MAX_PAGE_SIZE

    def get_offset(self, request) -> int:
        raw = request.query_params.get(self.offset_query_param, "0")
        try:
            offset = _positive_int(raw)
        except ValueError:
            raise ValidationError(
                {"offset": [f"{raw!r} is not a whole number of rows (0 or more)."]}
            ) from None
        if offset > MAX_OFFSET:
            raise ValidationError(
                {
                    "offset": [
                        f"An offset of {offset} is above the largest offered ({MAX_OFFSET}): "
                        "page through a long list with the cursor (drop limit/offset and "
                        "follow 'next')."
                    ]
                }
            )
        return offset

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        # COUNT over at most COUNT_CAP + 1 rows (a LIMITed subquery), never the whole list.
        bounded = queryset[: COUNT_CAP + 1].count()
        self.count_capped = bounded > COUNT_CAP
        self.count = None if self.count_capped else bounded
        rows = list(queryset[self.offset : self.offset + self.limit + 1])
        self.has_next = len(rows) > self.limit
        return rows[: self.limit]

    def get_next_link(self):
        # Whether a next page exists comes from the extra row read, not from the count.
        if not self.has_next:
            return None
        url = replace_query_param(
            self.request.build_absolute_uri(), self.limit_query_param, self.limit
        )
        return replace_query_param(url, self.offset_query_param, self.offset + self.limit)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.count,
                "count_capped": self.count_capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )


class RegistryPagination(CursorPagination):
    """Keyset pages on a unique key; ``limit``/``offset`` switch to the bounded offset style.

    The key must be unique and indexed (with the filters' ``(field, id)`` indexes a filtered
    page is an index range scan): ``pk`` unless the view sets ``cursor_ordering``.
    """

    ordering = "pk"
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    offset_params = ("limit", "offset")

    def paginate_queryset(self, queryset, request, view=None):
        self.offset_style = None
        if self.cursor_query_param not in request.query_params and any(
            p in request.query_params for p in self.offset_params
        ):
            self.offset_style = BoundedLimitOffsetPagination()
            ordering = self.get_ordering(request, queryset, view)
            return self.offset_style.paginate_queryset(queryset.order_by(*ordering), request, view)
        return super().paginate_queryset(queryset, request, view)

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        # A view names its own unique key (``cursor_ordering``): patients by study id, runs
        # and import jobs newest first; every other list in ascending id.
        ordering = getattr(view, "cursor_ordering", None) or self.ordering
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    def get_paginated_response(self, data):
        if self.offset_style is not None:
            return self.offset_style.get_paginated_response(data)
        return super().get_paginated_response(data)

    def get_paginated_response_schema(self, schema):
        cursor = super().get_paginated_response_schema(schema)
        cursor["description"] = (
            "A page in ascending id, read from where the previous page stopped: follow `next` "
            "until it is null. No total is returned (counting a large list would scan it). "
            f"With `limit`/`offset` instead (offset at most {MAX_OFFSET}), the page also carries "
            f"`count` (exact up to {COUNT_CAP} rows, else null with `count_capped` true)."
        )
        cursor["properties"]["count"] = {
            "type": "integer",
            "nullable": True,
            "description": f"Only with limit/offset: the number of rows, null above {COUNT_CAP}.",
        }
        cursor["properties"]["count_capped"] = {
            "type": "boolean",
            "description": f"Only with limit/offset: true when the list holds more than "
            f"{COUNT_CAP} rows.",
        }
        return cursor

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for param in parameters:
            if param["name"] == self.page_size_query_param:
                param["description"] = (
                    f"Rows per page (default {PAGE_SIZE}, at most {MAX_PAGE_SIZE})."
                )
        parameters += [
            {
                "name": "limit",
                "required": False,
                "in": "query",
                "description": "Offset style for small lists: rows per page "
                f"(at most {MAX_PAGE_SIZE}). Prefer the cursor.",
                "schema": {"type": "integer"},
            },
            {
                "name": "offset",
                "required": False,
                "in": "query",
                "description": f"Offset style for small lists: rows to skip (at most {MAX_OFFSET}).",
                "schema": {"type": "integer"},
            },
        ]
        return parameters
