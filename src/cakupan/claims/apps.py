from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClaimsConfig(AppConfig):
    name = "cakupan.claims"
    label = "claims"
    verbose_name = _("Claims and scholarships")

    def ready(self) -> None:
        # When the ledger pays months, claims held for arrears are released (services).
        from cakupan.claims import receivers  # noqa: F401
