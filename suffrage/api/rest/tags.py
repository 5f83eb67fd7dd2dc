"""REST endpoints: tags (being written)."""

from ninja import Router

router = Router(tags=["tags"])
