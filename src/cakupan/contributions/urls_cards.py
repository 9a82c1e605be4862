"""URLs of the ledger's cards pages (namespace "cards": mounted at the root for short QR addresses)."""

from django.urls import path  # noqa: F401

app_name = "cards"
urlpatterns: list = []
