"""REST endpoints: canvassing (being written)."""

from ninja import Router

router = Router(tags=["canvassing"])
