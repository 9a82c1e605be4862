from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalculateConfig(AppConfig):
    name = "cakupan.calculate"
    label = "calculate"
    verbose_name = _("Contribution and benefit calculators")
