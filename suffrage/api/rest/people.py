"""REST endpoints: people (being written)."""

from ninja import Router

router = Router(tags=["people"])
