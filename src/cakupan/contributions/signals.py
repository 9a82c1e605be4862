"""What the ledger tells the apps above it, without importing them.

`ledger_changed` is sent inside the transaction that paid or unpaid months (ledger.settle,
ledger.bills_refresh), so a receiver's writes commit or roll back with the payment: the claims
app releases cash it held for arrears once the ledger shows them paid.
"""

from django.dispatch import Signal

ledger_changed = Signal()
