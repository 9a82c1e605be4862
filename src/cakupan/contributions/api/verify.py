"""API: the ledger's verify operations."""

from ninja import Router

router = Router(tags=["verify"])
