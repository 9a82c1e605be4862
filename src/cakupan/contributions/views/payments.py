"""Pages for payments: the list, the form, one payment (with its reversal), payment statements
(upload → preview with the row report → save, save the good rows only, or discard), and the
unmatched queue, where one officer proposes the payer and another approves (maker-checker).

RECORD_PAYMENT records, uploads, reverses and proposes; APPROVE_PAYMENT decides proposals.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cakupan.accounts.roles import APPROVE_PAYMENT, RECORD_PAYMENT, require_any
from cakupan.contributions.billing import PREPAY_MONTHS
from cakupan.contributions.models import Invoice, Payment, PaymentAssignment, PaymentStatement
from cakupan.contributions.payment_reads import (
    account_name,
    open_proposal,
    payment_facts,
    payments_recent,
    unmatched_waiting,
)
from cakupan.contributions.services import (
    PaymentRefused,
    account_of_membership,
    account_of_sponsor,
    assignment_decide,
    assignment_propose,
    payment_record,
    payment_reverse,
)
from cakupan.contributions.statements import (
    StatementRefused,
    statement_discard,
    statement_import,
    statement_upload,
)
from cakupan.formkit import AsciiDigitsForm
from cakupan.funding.models import Sponsor
from cakupan.membership.models import Membership
from cakupan.money import AmountInvalid, parse_rupiah

MAX_UPLOAD_MB = 200
SHOWN_PROBLEMS = 200


# -- forms -----------------------------------------------------------------------------------


class PayerFields(AsciiDigitsForm):
    """Who pays: a sponsor chosen from the list, or a worker's membership number; and what the
    money is for: an invoice of that sponsor, or a membership."""

    digit_fields = ("member_payer", "invoice", "membership")

    sponsor = forms.ModelChoiceField(
        label=gettext_lazy("Sponsor paying"),
        queryset=Sponsor.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("(a worker paying for himself)"),
    )
    member_payer = forms.CharField(
        label=gettext_lazy("or the membership number of the worker paying"),
        max_length=20,
        required=False,
    )
    invoice = forms.CharField(label=gettext_lazy("Invoice number"), max_length=40, required=False)
    membership = forms.CharField(
        label=gettext_lazy("For the membership"), max_length=20, required=False
    )

    def clean(self):
        data = super().clean()
        sponsor = data.get("sponsor")
        number = (data.get("member_payer") or "").strip()
        invoice_no = (data.get("invoice") or "").strip()
        member_no = (data.get("membership") or "").strip()
        if sponsor and number:
            self.add_error(
                "member_payer",
                _("Choose the sponsor or type a membership number, not both."),
            )
        if not sponsor and not number:
            self.add_error(
                "sponsor", _("Choose the sponsor paying, or type the worker's membership number.")
            )
        if invoice_no and member_no:
            self.add_error("membership", _("Give the invoice or the membership number, not both."))
        data["payer_membership"] = None
        if number:
            data["payer_membership"] = Membership.objects.filter(number=number).first()
            if data["payer_membership"] is None:
                self.add_error(
                    "member_payer",
                    _("No membership has the number %(n)s; check it on the member's card.")
                    % {"n": number},
                )
        data["invoice_obj"] = None
        if invoice_no:
            data["invoice_obj"] = (
                Invoice.objects.select_related("programme").filter(number=invoice_no).first()
            )
            if data["invoice_obj"] is None:
                self.add_error("invoice", _("No invoice has the number %(n)s.") % {"n": invoice_no})
            elif sponsor and data["invoice_obj"].programme.sponsor_id != sponsor.pk:
                self.add_error(
                    "invoice",
                    _("Invoice %(n)s is another sponsor's.") % {"n": invoice_no},
                )
            elif number:
                self.add_error("invoice", _("A worker paying for himself has no invoice."))
        data["membership_obj"] = None
        if member_no:
            data["membership_obj"] = Membership.objects.filter(number=member_no).first()
            if data["membership_obj"] is None:
                self.add_error(
                    "membership",
                    _("No membership has the number %(n)s; check it on the member's card.")
                    % {"n": member_no},
                )
        return data

    def payer_text(self) -> str:
        d = self.cleaned_data
        return d["sponsor"].name if d.get("sponsor") else (d.get("member_payer") or "").strip()

    def target_text(self) -> str:
        d = self.cleaned_data
        return (d.get("invoice") or "").strip() or (d.get("membership") or "").strip()


class PaymentForm(PayerFields):
    digit_fields = ("reference", "amount", "member_payer", "invoice", "membership")
    field_order = ["reference", "sponsor", "member_payer", "amount", "paid_on"]

    reference = forms.CharField(
        label=gettext_lazy("Reference"),
        max_length=80,
        help_text=gettext_lazy("The transfer number on the bank statement; recorded once only."),
    )
    amount = forms.CharField(
        label=gettext_lazy("Amount (Rp)"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "Rp 16.800"}),
    )
    paid_on = forms.DateField(
        label=gettext_lazy("Paid on"),
        input_formats=["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"],
        widget=forms.DateInput(attrs={"placeholder": "DD/MM/YYYY"}, format="%d/%m/%Y"),
        error_messages={"invalid": gettext_lazy("Write the date as DD/MM/YYYY, e.g. 03/11/2026.")},
    )
    prepay_months = forms.TypedChoiceField(
        label=gettext_lazy("Months paid ahead (a worker paying for himself)"),
        choices=[(0, gettext_lazy("none: pay what is owed"))]
        + [(n, str(n)) for n in PREPAY_MONTHS],
        coerce=int,
        required=False,
        empty_value=0,
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def clean_amount(self) -> int:
        try:
            amount = parse_rupiah(self.cleaned_data["amount"])
        except AmountInvalid:
            raise forms.ValidationError(
                _("“%(v)s” is not an amount in Rupiah; write whole Rupiah, e.g. 16.800.")
                % {"v": self.cleaned_data["amount"]}
            ) from None
        if amount <= 0:
            raise forms.ValidationError(_("The amount must be more than 0."))
        return amount

    def clean(self):
        data = super().clean()
        if data.get("prepay_months") and data.get("sponsor"):
            self.add_error(
                "prepay_months", _("Months are paid ahead by a worker paying for himself.")
            )
        return data


class ProposeForm(PayerFields):
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Payment statement (CSV or XLSX)"),
        help_text=gettext_lazy(
            "Columns: reference, payer, amount, date, and optionally invoice or membership "
            "(Indonesian names work too: referensi, pembayar, jumlah, tanggal, no_invoice, "
            "no_kepesertaan). Every row is checked first; nothing is saved before you choose."
        ),
    )

    def clean_file(self):
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith((".csv", ".txt", ".tsv", ".xlsx", ".xlsm")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        if f.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB; split it.") % {"mb": MAX_UPLOAD_MB}
            )
        return f


def _refused_on(form: forms.Form, e: PaymentRefused | StatementRefused, default: str) -> None:
    names = {"target": "invoice", "paid_on": "paid_on", "amount": "amount"}
    field = names.get(e.field or "", e.field)
    form.add_error(field if field in form.fields else (default or None), e.message)


# -- payments --------------------------------------------------------------------------------


@login_required
def payment_list_view(request: HttpRequest) -> HttpResponse:
    require_any(request.user, RECORD_PAYMENT, APPROVE_PAYMENT)
    q = request.GET.get("q", "")[:80]
    payments = list(payments_recent(search=q))
    rows = [(p, account_name(p.account)) for p in payments]
    return render(
        request,
        "contributions/payment_list.html",
        {
            "rows": rows,
            "q": q,
            "waiting": unmatched_waiting().count(),
            "can_record": request.user.has_perm(RECORD_PAYMENT),
        },
    )


@login_required
def payment_create_view(request: HttpRequest) -> HttpResponse:
    require_any(request.user, RECORD_PAYMENT)
    form = PaymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            recorded = payment_record(
                reference=d["reference"],
                amount=d["amount"],
                paid_on=d["paid_on"],
                source=Payment.Source.FORM,
                user=request.user,
                payer=form.payer_text(),
                target=form.target_text(),
                prepay_months=d.get("prepay_months") or 0,
                note=d.get("note") or "",
            )
        except PaymentRefused as e:
            _refused_on(form, e, "")
        else:
            payment = recorded.payment
            if not recorded.created:
                messages.warning(
                    request,
                    _(
                        "The reference %(ref)s was already recorded on %(day)s: nothing was "
                        "credited again."
                    )
                    % {"ref": payment.reference, "day": f"{payment.paid_on:%d/%m/%Y}"},
                )
            elif payment.account_id is None:
                messages.warning(
                    request,
                    _("Recorded; it waits in the unmatched queue: %(why)s")
                    % {"why": payment.get_unmatched_reason_display()},
                )
            else:
                messages.success(
                    request, _("Payment %(ref)s recorded.") % {"ref": payment.reference}
                )
            return redirect("contributions:payment_detail", pk=payment.pk)
    return render(request, "contributions/payment_form.html", {"form": form})


@login_required
def payment_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_any(request.user, RECORD_PAYMENT, APPROVE_PAYMENT)
    payment = get_object_or_404(
        Payment.objects.select_related(
            "account__sponsor", "account__membership", "invoice", "membership", "reverses"
        ),
        pk=pk,
    )
    facts = payment_facts(payment)
    reversal = Payment.objects.filter(reverses=payment).first()
    return render(
        request,
        "contributions/payment_detail.html",
        {
            "payment": payment,
            "facts": facts,
            "reversal": reversal,
            "can_reverse": request.user.has_perm(RECORD_PAYMENT)
            and payment.reverses_id is None
            and reversal is None,
        },
    )


@login_required
@require_POST
def payment_reverse_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_any(request.user, RECORD_PAYMENT)
    payment = get_object_or_404(Payment, pk=pk)
    try:
        reversal = payment_reverse(
            payment=payment, user=request.user, reason=request.POST.get("reason", "")[:200]
        )
    except PaymentRefused as e:
        messages.error(request, e.message)
        return redirect("contributions:payment_detail", pk=payment.pk)
    messages.success(
        request,
        _("Payment %(ref)s reversed; its months are unpaid again.") % {"ref": payment.reference},
    )
    return redirect("contributions:payment_detail", pk=reversal.pk)


# -- statements ------------------------------------------------------------------------------


@login_required
def statement_upload_view(request: HttpRequest) -> HttpResponse:
    require_any(request.user, RECORD_PAYMENT)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        statement = statement_upload(upload=form.cleaned_data["file"], user=request.user)
        try:
            statement_import(
                statement.file.path, user=request.user, dry_run=True, statement=statement
            )
        except StatementRefused as e:
            statement.status = PaymentStatement.Status.FAILED
            statement.problems = [{"row": 0, "column": "", "problem": e.message, "fix": ""}]
            if statement.file:
                statement.file.delete(save=False)
            statement.save()
            form.add_error("file", e.message)
        else:
            return redirect("contributions:statement_detail", pk=statement.pk)
    statements = PaymentStatement.objects.select_related("uploaded_by")[:20]
    return render(
        request, "contributions/statement_upload.html", {"form": form, "statements": statements}
    )


@login_required
def statement_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_any(request.user, RECORD_PAYMENT)
    statement = get_object_or_404(PaymentStatement.objects.select_related("uploaded_by"), pk=pk)
    counts = statement.counts or {}
    problems = statement.problems or []
    previewed = statement.status == PaymentStatement.Status.PREVIEWED
    rejected = counts.get("rejected", 0)
    return render(
        request,
        "contributions/statement_detail.html",
        {
            "statement": statement,
            "counts": counts,
            "problems": problems[:SHOWN_PROBLEMS],
            "more_problems": max(counts.get("problems", len(problems)) - SHOWN_PROBLEMS, 0),
            "previewed": previewed,
            "can_save_all": previewed and not rejected and counts.get("to_record", 0) > 0,
            "can_save_good": previewed and rejected and counts.get("to_record", 0) > 0,
            "nothing_new": previewed and not counts.get("to_record", 0),
        },
    )


@login_required
@require_POST
def statement_save_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_any(request.user, RECORD_PAYMENT)
    statement = get_object_or_404(PaymentStatement, pk=pk)
    if statement.status != PaymentStatement.Status.PREVIEWED or not statement.file:
        messages.error(request, _("This statement was already saved or discarded."))
        return redirect("contributions:statement_detail", pk=statement.pk)
    partial = request.POST.get("partial") == "1"
    try:
        result = statement_import(
            statement.file.path, user=request.user, partial=partial, statement=statement
        )
    except StatementRefused as e:
        messages.error(request, e.message)
        return redirect("contributions:statement_detail", pk=statement.pk)
    if result.saved:
        c = result.counts
        messages.success(
            request,
            _("Saved: %(n)s payments; %(paid)s bills paid. Already recorded before: %(done)s.")
            % {"n": c["recorded"], "paid": c["bills_paid"], "done": c["already_recorded"]},
        )
    else:
        messages.error(request, result.refused_reason)
    return redirect("contributions:statement_detail", pk=statement.pk)


@login_required
@require_POST
def statement_discard_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_any(request.user, RECORD_PAYMENT)
    statement = get_object_or_404(PaymentStatement, pk=pk)
    try:
        statement_discard(statement=statement)
    except StatementRefused as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("The statement was discarded; nothing of it was saved."))
    return redirect("contributions:statement_upload")


# -- the unmatched queue ---------------------------------------------------------------------


@login_required
def unmatched_list_view(request: HttpRequest) -> HttpResponse:
    require_any(request.user, RECORD_PAYMENT, APPROVE_PAYMENT)
    return _unmatched_page(request)


def _unmatched_page(
    request: HttpRequest, form_for: int | None = None, form: ProposeForm | None = None
) -> HttpResponse:
    items = []
    for payment in unmatched_waiting()[:200]:
        proposal = open_proposal(payment)
        items.append(
            {
                "payment": payment,
                "proposal": proposal,
                "proposal_payer": account_name(proposal.account) if proposal else "",
                "own_proposal": proposal is not None and proposal.proposed_by_id == request.user.pk,
                "form": form
                if form is not None and form_for == payment.pk
                else ProposeForm(prefix=f"p{payment.pk}"),
            }
        )
    return render(
        request,
        "contributions/unmatched_list.html",
        {
            "items": items,
            "can_propose": request.user.has_perm(RECORD_PAYMENT),
            "can_decide": request.user.has_perm(APPROVE_PAYMENT),
        },
        status=422 if form is not None else 200,
    )


@login_required
@require_POST
def unmatched_propose_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_any(request.user, RECORD_PAYMENT)
    payment = unmatched_waiting().filter(pk=pk).first()
    if payment is None:
        raise Http404
    form = ProposeForm(request.POST, prefix=f"p{payment.pk}")
    if form.is_valid():
        d = form.cleaned_data
        account = (
            account_of_sponsor(d["sponsor"])
            if d.get("sponsor")
            else account_of_membership(d["payer_membership"])
        )
        try:
            assignment_propose(
                payment=payment,
                user=request.user,
                account=account,
                invoice=d.get("invoice_obj"),
                membership=d.get("membership_obj"),
                note=d.get("note") or "",
            )
        except PaymentRefused as e:
            messages.error(request, e.message)
        else:
            messages.success(
                request,
                _("Proposed: %(ref)s belongs to %(who)s. Another officer must approve it.")
                % {"ref": payment.reference, "who": account_name(account)},
            )
        return redirect("contributions:unmatched_list")
    return _unmatched_page(request, form_for=payment.pk, form=form)


@login_required
@require_POST
def unmatched_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_any(request.user, APPROVE_PAYMENT)
    assignment = get_object_or_404(PaymentAssignment, pk=pk)
    approve = request.POST.get("decision") == "approve"
    try:
        payment = assignment_decide(assignment=assignment, user=request.user, approve=approve)
    except PaymentRefused as e:
        messages.error(request, e.message)
        return redirect("contributions:unmatched_list")
    if approve:
        messages.success(
            request,
            _("Approved: payment %(ref)s is its payer's and was spent on the bills.")
            % {"ref": payment.reference},
        )
        return redirect("contributions:payment_detail", pk=payment.pk)
    messages.success(
        request,
        _("Rejected: payment %(ref)s waits for another proposal.") % {"ref": payment.reference},
    )
    return redirect("contributions:unmatched_list")
