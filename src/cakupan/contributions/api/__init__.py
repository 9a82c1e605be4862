"""The ledger's JSON API: payments, billing and the hospital's verification."""

from ninja import Router

from cakupan.contributions.api.billing import router as billing_router
from cakupan.contributions.api.payments import router as payments_router
from cakupan.contributions.api.verify import router as verify_router

router = Router()
router.add_router("", billing_router)
router.add_router("", payments_router)
router.add_router("", verify_router)
