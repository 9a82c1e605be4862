"""The events a benefit is computed for, and their parsing from JSON with field-path errors.

The JSON schema is documented in the package docstring (`cakupan.rules`); this module is
its single implementation, so the CLI, the API and the web forms all accept the same input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, TypeVar

from cakupan.rules.errors import RuleInputError
from cakupan.rules.inputs import parse_bool, parse_date, parse_int

T = TypeVar("T")


@dataclass(frozen=True)
class DisabilityEntry:
    """One injured body part or function, as an item of the disability table.

    `percent` is the assessed percent for a range item (scalp 10–30); `units` counts the
    units of a per-unit item (hearing reduction: units of 10 dB); `function_loss_percent`
    (0–100) is given when the part remains but lost function, and left out for an
    anatomical loss.
    """

    item: str
    percent: int | None = None
    units: int | None = None
    function_loss_percent: int | None = None


@dataclass(frozen=True)
class Incapacity:
    """STMB period: whole months plus days; from/to dates count end − start + 1 days."""

    months: int = 0
    days: int = 0
    first_day: date | None = None
    last_day: date | None = None


@dataclass(frozen=True)
class TransportClaim:
    """Transport to care by land, sea or air, and what it cost."""

    mode: str
    amount: int


@dataclass(frozen=True)
class Child:
    """A child submitted for the scholarship, described at the event date.

    `level` is a vocabulary education level: not_in_school (not yet of school age),
    tk_sd, smp, sma, s1, not_enrolled, finished. `year_in_level` (1-based) is the year the
    child is in during the school year of the event; required for the four paid levels.
    `school_start_year` optionally fixes when a not_in_school child starts TK–SD year 1
    (the calendar year its school year begins). `working` is no, pu, bpu, intern or other;
    `pu_consecutive_months` counts consecutive months of PU work for the Permenaker 1/2025
    exception. `chosen` marks the heirs' choice of who receives the scholarship when more
    children qualify than the rule set allows.
    """

    birth_date: date
    level: str
    year_in_level: int | None = None
    school_start_year: int | None = None
    name: str = ""
    married: bool = False
    working: str = "no"
    pu_consecutive_months: int = 0
    registered_heir: bool = True
    chosen: bool = False


@dataclass(frozen=True)
class WorkAccident:
    """A work accident (JKK) and what followed it.

    `wage` is the wage the contributions were paid on (for a BPU the bracket base);
    `income` may be given instead and is mapped to its bracket base. `medical_bills`
    None means medical care is recorded "as incurred"; a tuple lists the bills so far.
    `children` are only for `death` or `total_disability`.
    """

    event_date: date
    wage: int | None = None
    income: int | None = None
    months_in_arrears: int = 0
    contribution_months: int | None = None
    medical_bills: tuple[int, ...] | None = None
    stmb: Incapacity | None = None
    disability: tuple[DisabilityEntry, ...] = ()
    left_handed: bool = False
    total_disability: bool = False
    death: bool = False
    home_care: int | None = None
    transport: tuple[TransportClaim, ...] = ()
    children: tuple[Child, ...] = ()

    type: ClassVar[str] = "jkk"


@dataclass(frozen=True)
class Death:
    """A death not caused by work (JKM); scholarships need `contribution_months`."""

    event_date: date
    months_in_arrears: int = 0
    contribution_months: int | None = None
    children: tuple[Child, ...] = ()

    type: ClassVar[str] = "jkm"


Event = WorkAccident | Death


class _Fields:
    """A JSON object read key by key; unknown keys are refused so a typo is never ignored."""

    def __init__(self, data: object, path: str, allowed: tuple[str, ...]) -> None:
        if not isinstance(data, Mapping):
            raise RuleInputError(
                field=path or "event",
                code="not_an_object",
                message=f"{path or 'Data kejadian'} harus berupa objek JSON {{...}}.",
                message_en=f"{path or 'The event'} must be a JSON object {{...}}.",
            )
        for key in data:
            if key not in allowed:
                raise RuleInputError(
                    field=self._join(path, str(key)),
                    code="unknown_field",
                    message=f"Kolom {key!r} tidak dikenal; kolom yang boleh: {', '.join(allowed)}.",
                    message_en=f"Unknown field {key!r}; allowed fields: {', '.join(allowed)}.",
                )
        self.data = data
        self.path = path

    @staticmethod
    def _join(path: str, key: str) -> str:
        return f"{path}.{key}" if path else key

    def field(self, key: str) -> str:
        return self._join(self.path, key)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def required(self, key: str) -> Any:
        if not self.has(key):
            raise RuleInputError(
                field=self.field(key),
                code="required",
                message=f"Kolom {self.field(key)} wajib diisi.",
                message_en=f"Field {self.field(key)} is required.",
            )
        return self.data[key]

    def get(self, key: str, parse: Callable[[Any, str], T], default: T) -> T:
        return parse(self.data[key], self.field(key)) if self.has(key) else default

    def items(self, key: str) -> list[tuple[str, Any]]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise RuleInputError(
                field=self.field(key),
                code="not_a_list",
                message=f"Kolom {self.field(key)} harus berupa daftar [...].",
                message_en=f"Field {self.field(key)} must be a list [...].",
            )
        return [(f"{self.field(key)}[{n}]", item) for n, item in enumerate(value)]


def _int(value: Any, field: str) -> int:
    return parse_int(value, field)


def _str(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise RuleInputError(
            field=field,
            code="not_a_string",
            message=f"Kolom {field} harus berupa teks.",
            message_en=f"Field {field} must be text.",
        )
    return value


def _child(data: object, path: str) -> Child:
    f = _Fields(
        data,
        path,
        (
            "name",
            "birth_date",
            "level",
            "year_in_level",
            "school_start_year",
            "married",
            "working",
            "pu_consecutive_months",
            "registered_heir",
            "chosen",
        ),
    )
    return Child(
        birth_date=parse_date(f.required("birth_date"), f.field("birth_date")),
        level=_str(f.required("level"), f.field("level")),
        year_in_level=f.get("year_in_level", _int, None),
        school_start_year=f.get("school_start_year", _int, None),
        name=f.get("name", _str, ""),
        married=f.get("married", parse_bool, False),
        working=f.get("working", _str, "no"),
        pu_consecutive_months=f.get("pu_consecutive_months", _int, 0),
        registered_heir=f.get("registered_heir", parse_bool, True),
        chosen=f.get("chosen", parse_bool, False),
    )


def _disability(data: object, path: str) -> DisabilityEntry:
    f = _Fields(data, path, ("item", "percent", "units", "function_loss_percent"))
    return DisabilityEntry(
        item=_str(f.required("item"), f.field("item")),
        percent=f.get("percent", _int, None),
        units=f.get("units", _int, None),
        function_loss_percent=f.get("function_loss_percent", _int, None),
    )


def _incapacity(data: object, path: str) -> Incapacity:
    f = _Fields(data, path, ("months", "days", "from", "to"))
    if f.has("from") or f.has("to"):
        if f.has("months") or f.has("days"):
            raise RuleInputError(
                field=path,
                code="conflicting_fields",
                message=f"Isi {path} dengan from/to ATAU months/days, bukan keduanya.",
                message_en=f"Give {path} either as from/to or as months/days, not both.",
            )
        first = parse_date(f.required("from"), f.field("from"))
        last = parse_date(f.required("to"), f.field("to"))
        if last < first:
            raise RuleInputError(
                field=f.field("to"),
                code="before_start",
                message="Tanggal akhir STMB sebelum tanggal mulai; periksa kedua tanggal.",
                message_en="The STMB end date is before its start date; check both dates.",
            )
        return Incapacity(days=(last - first).days + 1, first_day=first, last_day=last)
    return Incapacity(months=f.get("months", _int, 0), days=f.get("days", _int, 0))


def _transport(data: object, path: str) -> TransportClaim:
    f = _Fields(data, path, ("mode", "amount"))
    return TransportClaim(
        mode=_str(f.required("mode"), f.field("mode")),
        amount=_int(f.required("amount"), f.field("amount")),
    )


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """Parse a JSON event description; RuleInputError names the path of the first bad field."""
    head = _Fields(data, "", tuple(data) if isinstance(data, Mapping) else ())
    kind = _str(head.required("type"), "type")
    common = ("type", "event_date", "months_in_arrears", "contribution_months", "children")
    children = tuple(_child(item, path) for path, item in head.items("children"))
    if kind == "jkm":
        f = _Fields(data, "", common)
        return Death(
            event_date=parse_date(f.required("event_date"), "event_date"),
            months_in_arrears=f.get("months_in_arrears", _int, 0),
            contribution_months=f.get("contribution_months", _int, None),
            children=children,
        )
    if kind == "jkk":
        f = _Fields(
            data,
            "",
            (
                *common,
                "wage",
                "income",
                "medical_bills",
                "stmb",
                "disability",
                "left_handed",
                "total_disability",
                "death",
                "home_care",
                "transport",
            ),
        )
        bills = (
            tuple(_int(item, path) for path, item in f.items("medical_bills"))
            if f.has("medical_bills")
            else None
        )
        return WorkAccident(
            event_date=parse_date(f.required("event_date"), "event_date"),
            wage=f.get("wage", _int, None),
            income=f.get("income", _int, None),
            months_in_arrears=f.get("months_in_arrears", _int, 0),
            contribution_months=f.get("contribution_months", _int, None),
            medical_bills=bills,
            stmb=f.get("stmb", _incapacity, None),
            disability=tuple(_disability(item, path) for path, item in f.items("disability")),
            left_handed=f.get("left_handed", parse_bool, False),
            total_disability=f.get("total_disability", parse_bool, False),
            death=f.get("death", parse_bool, False),
            home_care=f.get("home_care", _int, None),
            transport=tuple(_transport(item, path) for path, item in f.items("transport")),
            children=children,
        )
    raise RuleInputError(
        field="type",
        code="unknown_type",
        message=f"Jenis kejadian {kind!r} tidak dikenal; pilih jkk (kecelakaan kerja) atau "
        "jkm (meninggal bukan karena kerja).",
        message_en=f"Unknown event type {kind!r}; choose jkk (work accident) or jkm (death "
        "not from work).",
    )
