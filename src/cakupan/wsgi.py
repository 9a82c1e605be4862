"""WSGI entry point (waitress or gunicorn serve it in `cakupan serve`): Django's application
behind the lean path of the hospital's verify check (`cakupan.apifast`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cakupan.settings")
django_application = get_wsgi_application()

from cakupan.apifast import VerifyFastPath  # noqa: E402  (needs Django set up)

application = VerifyFastPath(django_application)
