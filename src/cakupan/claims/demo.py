"""Demo claims: a few cases on the demo ledger so a newcomer sees each step of a claim.

- a work-accident death of a protected CSR-funded ojol driver, with his spouse and children as
  heirs (scholarships scheduled), waiting for verification;
- a work accident with two months of temporary incapacity, verified, waiting for approval;
- a death not from work of a self-payer in arrears (the cash held until the arrears are paid);
- a death not from work of a self-payer whose membership lapsed (refused, the months named).
Filed by no user, so the demo officer accounts may verify and approve them. Deterministic for
the same demo data and day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from cakupan.claims.models import Batch, Claim, EnrolmentProof, Instruction, Party
from cakupan.claims.services import (
    claim_file,
    claim_outcome,
    claim_verify,
    incapacity_add,
    party_update,
)
from cakupan.contributions.selectors import ACTIVE, ARREARS, LAPSED, states_of
from cakupan.membership.models import Membership
from cakupan.registry.models import Heir

DEMO_BANK = "014"  # BCA: 10-digit accounts


@dataclass(frozen=True)
class DemoClaims:
    claims: int


def demo_claims_delete() -> None:
    claims = Claim.objects.filter(worker__source="demo")
    EnrolmentProof.objects.filter(instalment__claim__in=claims).delete()
    Instruction.objects.filter(claim__in=claims).delete()
    claims.delete()
    Batch.objects.filter(instructions__isnull=True).delete()


def _level(birth: dt.date, event: dt.date) -> tuple[str, int | None]:
    """A child's school level and year at the event, from the age at the school year's start."""
    start = dt.date(event.year if event.month >= 7 else event.year - 1, 7, 1)
    age = start.year - birth.year - ((start.month, start.day) < (birth.month, birth.day))
    for level, first_age, years in (("tk_sd", 4, 8), ("smp", 12, 3), ("sma", 15, 3), ("s1", 18, 5)):
        if first_age <= age < first_age + years:
            return level, age - first_age + 1
    return ("not_in_school", None) if age < 4 else ("not_enrolled", None)


def _find(
    ids: list[int], on: dt.date, state: str, *, children: bool = False, spouse: bool = False
) -> Membership | None:
    states = states_of(ids, on)
    for mid in ids:
        if states.get(mid, ("",))[0] != state:
            continue
        member = Membership.objects.select_related("worker").get(pk=mid)
        # children of school age, so this school year's instalments show
        young = member.worker.heirs.filter(
            relation=Heir.Relation.CHILD,
            birth_date__gt=on.replace(year=on.year - 18),
            birth_date__lt=on.replace(year=on.year - 6),
        )
        if children and young.count() < 2:
            continue
        if spouse and not member.worker.heirs.filter(relation=Heir.Relation.SPOUSE).exists():
            continue
        return member
    return None


def _account(n: int) -> dict[str, str]:
    return {"bank_code": DEMO_BANK, "account_number": f"{1_000_000_000 + n:010d}"}


def _heirs(claim: Claim, on: dt.date, event: dt.date) -> None:
    """The heirs the claim took from the registry: the spouse (else the eldest child) takes the
    whole share; each child gets its school level at the event and an account."""
    parties = list(claim.parties.filter(role=Party.Role.HEIR).order_by("id"))
    spouse = [p for p in parties if p.relation == Party.Relation.SPOUSE]
    kids = [p for p in parties if p.is_child]
    payee = spouse[0] if spouse else kids[0]
    for n, party in enumerate(parties):
        fields: dict = {"share_percent": 100 if party is payee else 0}
        if party is payee or party.is_child:
            fields |= _account(claim.pk * 10 + n) | {"account_name": payee.full_name}
        if party.is_child:
            level, year = _level(party.birth_date, event)
            fields |= {"level": level, "year_in_level": year}
        party_update(party=party, user=None, on=on, **fields)


def demo_claims_load(*, today: dt.date) -> DemoClaims:
    """File the demo claims on the demo ledger (nothing when there is no demo ledger)."""
    event = today.replace(day=1) - dt.timedelta(days=20)  # last month, after its due day
    if event.year != today.year:
        event = today.replace(day=min(today.day, 10))
    csr = list(
        Membership.objects.filter(worker__source="demo", fundings__programme__sponsor__type="csr")
        .order_by("id")
        .values_list("id", flat=True)[:2000]
    )
    selfpay = list(
        Membership.objects.filter(worker__source="demo", fundings__programme__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)[:20000]
    )
    made = 0
    with transaction.atomic():
        death = _find(csr, event, ACTIVE, children=True)
        if death is not None:
            claim = claim_file(
                claim_type="jkk",
                membership=death,
                event_date=event,
                user=None,
                place="Jl. Soekarno-Hatta, Lowokwaru",
                description="Ditabrak truk saat mengantar penumpang ojol.",
                hospital="RSUD Kota Malang",
                injuries="Cedera kepala berat.",
                on=today,
            )
            claim_outcome(claim=claim, user=None, death_date=event, on=today)
            _heirs(claim, today, event)
            made += 1
        injured = _find([m for m in csr if not death or m != death.pk], event, ACTIVE)
        if injured is not None:
            claim = claim_file(
                claim_type="jkk",
                membership=injured,
                event_date=event,
                user=None,
                place="Pasar Besar Malang",
                description="Terjatuh dari motor saat mengambil pesanan.",
                hospital="RS Hermina Tangkubanprahu",
                injuries="Patah tulang kaki kanan.",
                on=today,
            )
            party = claim.parties.get()
            party.bank_code, party.account_number = DEMO_BANK, f"{2_000_000_000 + claim.pk:010d}"
            party.account_name = party.full_name
            party.save()
            incapacity_add(claim=claim, user=None, months=1, on=today)
            claim_verify(claim=claim, user=None)
            made += 1
        # in arrears last month; lapsed today (the self-payers who stopped five months ago)
        for state, day in ((ARREARS, event), (LAPSED, today)):
            member = _find(selfpay, day, state, spouse=True)
            if member is None:
                continue
            selfpay.remove(member.pk)
            claim = claim_file(
                claim_type="jkm", membership=member, event_date=day, user=None, on=today
            )
            spouse = claim.parties.filter(relation=Party.Relation.SPOUSE).first()
            if spouse is not None:
                party_update(
                    party=spouse,
                    user=None,
                    on=today,
                    share_percent=100,
                    account_name=spouse.full_name,
                    **_account(claim.pk * 10),
                )
            made += 1
    return DemoClaims(made)
