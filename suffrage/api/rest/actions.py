"""REST endpoints: actions (being written)."""

from ninja import Router

router = Router(tags=["actions"])
