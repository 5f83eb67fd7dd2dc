"""REST endpoints: segments (being written)."""

from ninja import Router

router = Router(tags=["segments"])
