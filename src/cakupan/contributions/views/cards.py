"""Pages of membership cards: print one card (worker page) or a programme's cards (programme
page), revoke a card, the public keys for offline checkers, and the page a scanned card opens
(/V/<token>, no login: name, masked NIK and whether protected today, nothing more)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from cakupan.accounts.roles import ISSUE_CARD, Role
from cakupan.contributions.cardpdf import card_pdf, cards_pdf
from cakupan.contributions.cards import (
    card_check,
    card_issue,
    card_revoke,
    cards_issue_for_programme,
    keys_published,
)
from cakupan.contributions.models import Card
from cakupan.contributions.selectors import membership_state
from cakupan.errors import Refused
from cakupan.funding.selectors import programme_scope
from cakupan.membership.models import FundingAssignment, Membership
from cakupan.registry.models import NikAccessLog
from cakupan.registry.nik import mask_nik
from cakupan.registry.services import access_log_write
from cakupan.throttle import Throttled, throttle


def _is_sponsor(user) -> bool:
    return user.role == Role.SPONSOR and not user.is_superuser


def _membership_in_scope(request: HttpRequest, pk: int) -> Membership:
    """The membership, if the user may print its card: officers any; a sponsor only one its
    own programmes fund (404 otherwise, as for a worker outside its scope)."""
    membership = get_object_or_404(Membership.objects.select_related("worker"), pk=pk)
    if _is_sponsor(request.user):
        funded = FundingAssignment.objects.filter(
            membership=membership, programme__in=programme_scope(user=request.user)
        ).exists()
        if not funded:
            raise Http404
    return membership


def _pdf_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@permission_required(ISSUE_CARD, raise_exception=True)
@require_POST
def card_print_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Issue (or reprint) the membership's card and send it as a PDF."""
    membership = _membership_in_scope(request, pk)
    today = timezone.localdate()
    try:
        card = card_issue(membership, request.user, today=today)
    except Refused as e:
        messages.error(request, e.message)
        return redirect("web:worker_detail", membership.worker_id)
    return _pdf_response(card_pdf(card, today), f"kartu-{membership.number}.pdf")


@login_required
@permission_required(ISSUE_CARD, raise_exception=True)
@require_POST
def programme_cards_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Every card of the programme's current members, eight to an A4 page."""
    programme = programme_scope(user=request.user).filter(pk=pk).first()
    if programme is None:
        raise Http404
    today = timezone.localdate()
    cards = cards_issue_for_programme(programme, request.user, today=today)
    title = _("Membership cards") + f" · {programme.name}"
    return _pdf_response(cards_pdf(cards, today, title), f"kartu-program-{programme.pk}.pdf")


@login_required
@permission_required(ISSUE_CARD, raise_exception=True)
@require_POST
def card_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """An officer revokes a card (lost, replaced, membership ended)."""
    if _is_sponsor(request.user):
        raise PermissionDenied  # a sponsor prints its members' cards; officers revoke them
    card = get_object_or_404(Card.objects.select_related("membership"), pk=pk)
    try:
        card_revoke(card, request.user, request.POST.get("reason", ""))
    except Refused as e:
        messages.error(request, e.message)
    else:
        messages.success(
            request, _("Card %(serial)s is revoked: scanning it now says so.") % {"serial": pk}
        )
    return redirect("web:worker_detail", card.membership.worker_id)


@require_GET
def keys_view(request: HttpRequest) -> JsonResponse:
    """The public keys of the card signing keys, for checking cards offline."""
    response = JsonResponse(keys_published())
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@never_cache
@require_GET
def card_check_view(request: HttpRequest, token: str) -> HttpResponse:
    """What a phone scanning a card sees: name, masked NIK, protected today, or the reason the
    card is refused. Counted per IP address; every scan is logged."""
    try:
        throttle(request, "card-check")
    except Throttled as e:
        response = render(request, "web/error.html", {"code": 429, "message": str(e)}, status=429)
        response["Retry-After"] = str(e.retry_after)
        return response
    today = timezone.localdate()
    check = card_check(token, today)
    worker = check.card.membership.worker if check.ok else None
    access_log_write(
        user=request.user,
        action=NikAccessLog.Action.VERIFY,
        workers=[worker],
        path=request.path,
    )
    context = {"check": check, "today": today}
    if check.ok:
        state = membership_state(check.card.membership, today)
        context.update(
            name=worker.full_name,
            masked=mask_nik(worker.nik),
            protected=state.protected,
            label=state.label,
        )
    status = 200 if check.ok else 403
    return render(request, "contributions/verify_card.html", context, status=status)
