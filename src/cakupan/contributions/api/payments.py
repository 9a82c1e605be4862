"""API: the ledger's payments operations."""

from ninja import Router

router = Router(tags=["payments"])
