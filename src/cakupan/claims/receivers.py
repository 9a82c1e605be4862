"""The claims app listens to the ledger: months paid may release cash held for arrears."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from cakupan.contributions.signals import ledger_changed


@receiver(ledger_changed, dispatch_uid="claims_holds_refresh")
def _ledger_changed(sender: Any, **kwargs: Any) -> None:
    from cakupan.claims.services import holds_refresh

    holds_refresh()
