"""Indonesian banks a benefit can be paid into: the clearing code (kode bank) the bank batch
file carries, the name, and the account number's length where it is fixed.

Lengths are what each bank prints on its books today [M]; a bank without a fixed length takes
8 to 18 digits. An operator adds a bank here (it is data, not a rule of the regulation)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bank:
    code: str
    name: str
    length: int | None = None  # the account number's fixed number of digits, if any


BANKS: dict[str, Bank] = {
    b.code: b
    for b in (
        Bank("002", "BRI", 15),
        Bank("008", "Bank Mandiri", 13),
        Bank("009", "BNI", 10),
        Bank("011", "Bank Danamon"),
        Bank("013", "Bank Permata"),
        Bank("014", "BCA", 10),
        Bank("016", "Maybank Indonesia"),
        Bank("019", "Bank Panin"),
        Bank("022", "CIMB Niaga"),
        Bank("028", "OCBC NISP"),
        Bank("111", "Bank DKI"),
        Bank("113", "Bank Jateng"),
        Bank("114", "Bank Jatim"),
        Bank("147", "Bank Muamalat"),
        Bank("153", "Bank Sinarmas"),
        Bank("200", "BTN"),
        Bank("213", "Bank BTPN"),
        Bank("426", "Bank Mega"),
        Bank("451", "Bank Syariah Indonesia (BSI)", 10),
    )
}
ACCOUNT_MIN, ACCOUNT_MAX = 8, 18


def bank_choices() -> list[tuple[str, str]]:
    return [(b.code, f"{b.name} ({b.code})") for b in sorted(BANKS.values(), key=lambda b: b.name)]
