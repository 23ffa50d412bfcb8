"""Indexes behind the filters of the API and of the admin lists.

Every list pages by a unique key (``registry.api.pagination``): ``WHERE <filter> AND id > <last>
ORDER BY id LIMIT n``. A ``(filter field, id)`` index answers that as one index range scan,
so a filtered page costs the same at 10,000 and at 1,000,000 rows; for a date range it is
an ordinary date index. One helper, so every model names its indexes the same way.
"""

from __future__ import annotations

from django.db import models


def keyset_indexes(prefix: str, *fields: str, key: str = "id") -> list[models.Index]:
    """One ``(field, key)`` index per filtered field, named ``<prefix>_<field>`` (≤ 30 chars)."""
    return [models.Index(fields=[field, key], name=f"{prefix}_{field}"[:30]) for field in fields]
