"""Roles of cakupan's users and what each may do, as data the auth backend reads."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    BPJS_OFFICER = "bpjs_officer", _("BPJS Ketenagakerjaan officer")
    CITY_OFFICER = "city_officer", _("City labour officer")
    SPONSOR = "sponsor", _("Sponsor")
    HOSPITAL = "hospital", _("Hospital clerk")


# Capabilities are Django permission names ("app_label.codename") so that views, the API and
# templates all ask the same question: user.has_perm(...).
VIEW_WORKER = "registry.view_worker"
ADD_WORKER = "registry.add_worker"
CHANGE_WORKER = "registry.change_worker"
VIEW_FULL_NIK = "registry.view_full_nik"
# Officers call workers (outreach, claims); sponsors and hospitals see phones masked.
VIEW_FULL_PHONE = "registry.view_full_phone"
EXPORT_WORKER = "registry.export_worker"
VIEW_ACCESS_LOG = "registry.view_nikaccesslog"
VIEW_REGION = "regions.view_region"
IMPORT_REGION = "regions.import_region"
VERIFY_MEMBERSHIP = "registry.verify_membership"
CHECK_NIK = "registry.check_nik"
USE_CALCULATOR = "calculate.use_calculator"
VIEW_PROGRAMME = "funding.view_fundingprogramme"
MANAGE_PROGRAMME = "funding.manage_programme"
ENROL = "membership.enrol"
# Upload a list of workers to a programme in the user's scope, see its preview, map its values,
# save or discard it. A sponsor has it for its own programmes (programme_scope); enrolling one
# worker by hand and review decisions stay with officers (ENROL, REVIEW_LINKS).
UPLOAD_LIST = "membership.upload_list"
REVIEW_LINKS = "membership.review_links"
# The contributions ledger: bill a month, record payments and statements, approve another
# officer's assignment of an unmatched payment (maker-checker), see bills and invoices (a
# sponsor: its own), print membership cards (a sponsor: for its own programmes).
RUN_BILLING = "contributions.run_billing"
RECORD_PAYMENT = "contributions.record_payment"
APPROVE_PAYMENT = "contributions.approve_payment"
VIEW_LEDGER = "contributions.view_ledger"
ISSUE_CARD = "contributions.issue_card"
# Claims: file a claim and add its facts and family; a hospital clerk opens the first report
# of a work accident at the desk (and sees nothing else); verify; approve (never the officer who
# submitted or verified it); export bank batches and read the bank's return; record a child's
# proof of enrolment.
FILE_CLAIM = "claims.file_claim"
REPORT_ACCIDENT = "claims.report_accident"
VIEW_CLAIM = "claims.view_claim"
VERIFY_CLAIM = "claims.verify_claim"
APPROVE_CLAIM = "claims.approve_claim"
PAY_CLAIM = "claims.pay_claim"
RECORD_PROOF = "claims.record_proof"
# Coverage: the UCJ dashboard and its lists; the inputs it is measured against (denominators,
# the agency's participant counts, targets); the budget planner; rebuilding a closed month.
# A sponsor sees its own programmes' impact only (VIEW_IMPACT, scoped in the selectors).
VIEW_COVERAGE = "coverage.view_coverage"
MANAGE_COVERAGE_INPUTS = "coverage.manage_inputs"
PLAN_BUDGET = "coverage.plan_budget"
REBUILD_SNAPSHOT = "coverage.rebuild_snapshot"
VIEW_IMPACT = "coverage.view_impact"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.BPJS_OFFICER: frozenset(
        {
            VIEW_WORKER,
            ADD_WORKER,
            CHANGE_WORKER,
            VIEW_FULL_NIK,
            VIEW_FULL_PHONE,
            EXPORT_WORKER,
            VIEW_REGION,
            VERIFY_MEMBERSHIP,
            CHECK_NIK,
            USE_CALCULATOR,
            VIEW_PROGRAMME,
            MANAGE_PROGRAMME,
            ENROL,
            UPLOAD_LIST,
            REVIEW_LINKS,
            RUN_BILLING,
            RECORD_PAYMENT,
            APPROVE_PAYMENT,
            VIEW_LEDGER,
            ISSUE_CARD,
            FILE_CLAIM,
            REPORT_ACCIDENT,
            VIEW_CLAIM,
            VERIFY_CLAIM,
            APPROVE_CLAIM,
            PAY_CLAIM,
            RECORD_PROOF,
            VIEW_COVERAGE,
            MANAGE_COVERAGE_INPUTS,
            PLAN_BUDGET,
            REBUILD_SNAPSHOT,
            VIEW_IMPACT,
        }
    ),
    Role.CITY_OFFICER: frozenset(
        {
            VIEW_WORKER,
            ADD_WORKER,
            CHANGE_WORKER,
            VIEW_FULL_NIK,
            VIEW_FULL_PHONE,
            EXPORT_WORKER,
            VIEW_REGION,
            CHECK_NIK,
            USE_CALCULATOR,
            VIEW_PROGRAMME,
            MANAGE_PROGRAMME,
            ENROL,
            UPLOAD_LIST,
            REVIEW_LINKS,
            VIEW_LEDGER,
            ISSUE_CARD,
            FILE_CLAIM,
            VIEW_CLAIM,
            RECORD_PROOF,
            VIEW_COVERAGE,
            MANAGE_COVERAGE_INPUTS,
            PLAN_BUDGET,
            VIEW_IMPACT,
        }
    ),
    # A sponsor sees only the workers its own programmes fund (scoped in the selectors) and
    # never a whole NIK; it uploads lists to its own programmes only.
    Role.SPONSOR: frozenset(
        {
            VIEW_WORKER,
            EXPORT_WORKER,
            VIEW_REGION,
            USE_CALCULATOR,
            VIEW_PROGRAMME,
            UPLOAD_LIST,
            VIEW_LEDGER,
            ISSUE_CARD,
            VIEW_IMPACT,
        }
    ),
    # A hospital clerk only asks "is this person protected today?" and, when he is, opens the
    # first report of a work accident.
    Role.HOSPITAL: frozenset({VERIFY_MEMBERSHIP, REPORT_ACCIDENT}),
}


def permissions_for(role: str) -> frozenset[str]:
    """The permission names a role grants; the admin role is handled as superuser-like."""
    return ROLE_PERMISSIONS.get(role, frozenset())


def require_any(user: Any, *perms: str) -> None:
    """A page's permission check: any one of `perms`, else 403 (PermissionDenied)."""
    if not any(user.has_perm(p) for p in perms):
        raise PermissionDenied
