"""Pagination that stays fast on a million rows: the total is counted up to a cap."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet

COUNT_CAP = 10_000


class CappedPaginator(Paginator):  # type: ignore[type-arg]
    """Counts at most COUNT_CAP + 1 rows, so a list's page costs the same on any base size.

    `is_capped` says the real total is larger than `count` (pages show "10,000+").
    """

    def __init__(self, queryset: QuerySet[Any], per_page: int, cap: int | None = None) -> None:
        super().__init__(queryset, per_page)
        self.queryset = queryset
        self.cap = cap or COUNT_CAP

    @cached_property
    def count(self) -> int:
        return min(self.queryset[: self.cap + 1].count(), self.cap)

    @cached_property
    def is_capped(self) -> bool:
        return self.queryset[self.cap : self.cap + 1].exists()
