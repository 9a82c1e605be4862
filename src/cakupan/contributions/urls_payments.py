"""URLs of the ledger's payments pages (namespace "contributions")."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
