"""Pages of a user's own account: API tokens (created, shown once, revoked)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from cakupan.accounts.models import ApiToken
from cakupan.accounts.services import token_create, token_revoke


@login_required
def tokens_view(request: HttpRequest) -> HttpResponse:
    """The user's own API tokens: create (key shown once) and revoke."""
    new_key = None
    if request.method == "POST":
        if "revoke" in request.POST:
            token_id = request.POST.get("revoke", "")
            # isascii: '²' passes isdigit() but int() refuses it
            if not (token_id.isascii() and token_id.isdigit()) or len(token_id) > 18:
                raise Http404
            token = get_object_or_404(ApiToken, pk=int(token_id), user=request.user)
            token_revoke(token=token)
            messages.success(request, _("Token revoked."))
            return redirect("web:tokens")
        name = (request.POST.get("name") or "api").strip()[:100] or "api"
        _token, new_key = token_create(user=request.user, name=name)
    tokens = request.user.api_tokens.order_by("-created_at")
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": tokens, "new_key": new_key, "api_docs": reverse("api:openapi-view")},
    )
