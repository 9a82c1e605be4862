"""Creating one payment instruction: the party's account as it is now, and a reference made of
the claim number and a running count (the bank batch and its return carry it)."""

from __future__ import annotations

from cakupan.claims.models import Claim, Instalment, Instruction, Party


def instruct(
    claim: Claim, party: Party, code: str, amount: int, instalment: Instalment | None = None
) -> Instruction:
    # the claim's row is locked first, so two instructions made at once (two children's
    # proofs) take consecutive numbers instead of the same one
    list(Claim.objects.select_for_update().filter(pk=claim.pk).values_list("pk", flat=True))
    n = Instruction.objects.filter(claim=claim).count() + 1
    return Instruction.objects.create(
        claim=claim,
        party=party,
        line_code=code,
        instalment=instalment,
        amount=amount,
        reference=f"{claim.number}-{n:03d}",
        bank_code=party.bank_code,
        account_number=party.account_number,
        account_name=party.account_name,
    )
