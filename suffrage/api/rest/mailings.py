"""REST endpoints: mailings (being written)."""

from ninja import Router

router = Router(tags=["mailings"])
