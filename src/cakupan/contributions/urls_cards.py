"""URLs of the ledger's cards pages (namespace "cards": mounted at the root for short QR addresses).

A card's QR holds `<SITE>/V/<TOKEN>` in upper case (the QR's alphanumeric mode has no lower
case); `/v/…` typed by hand works too.
"""

from django.urls import path, re_path

from cakupan.contributions.views import cards

app_name = "cards"
urlpatterns = [
    path("V/keys.json", cards.keys_view, name="keys"),
    re_path(r"^[Vv]/(?P<token>[A-Za-z2-7]{1,400})/?$", cards.card_check_view, name="check"),
    path("kartu/kepesertaan/<id:pk>/cetak/", cards.card_print_view, name="card_print"),
    path("kartu/program/<id:pk>/cetak/", cards.programme_cards_view, name="programme_cards"),
    path("kartu/<id:pk>/cabut/", cards.card_revoke_view, name="card_revoke"),
]
