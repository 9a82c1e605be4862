"""API: the ledger's billing operations."""

from ninja import Router

router = Router(tags=["billing"])
