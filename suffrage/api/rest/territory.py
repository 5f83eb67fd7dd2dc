"""REST endpoints: territory (being written)."""

from ninja import Router

router = Router(tags=["territory"])
