"""Numbered pages of a queryset."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass
class Page:
    items: list
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


async def paginate(queryset: Any, page: int | None, size: int = 20) -> Page:
    total = await queryset.count()
    pages = max(1, math.ceil(total / size))
    number = min(max(1, page or 1), pages)
    items = await queryset.offset((number - 1) * size).limit(size)
    return Page(items=list(items), number=number, size=size, total=total)
