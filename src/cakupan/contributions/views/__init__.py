"""Pages of the contributions ledger, one module per area: billing (runs, invoices, lapse
forecast), payments (form, statements, unmatched queue), cards (cards and verification)."""
