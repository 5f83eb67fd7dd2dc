"""REST endpoints: events (being written)."""

from ninja import Router

router = Router(tags=["events"])
