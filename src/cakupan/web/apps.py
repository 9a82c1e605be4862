from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "cakupan.web"
    label = "web"
    verbose_name = _("Web application")

    def ready(self) -> None:
        from django.utils import translation

        from cakupan import errors

        # refusals raised by pure code are shown in the request's language
        errors.language = translation.get_language
