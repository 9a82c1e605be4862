"""Budget plans kept as scenarios: saved, compared, exported (XLSX, PDF, CSV of the chosen
workers), and turned into a funding programme with its cohort in one step
(docs/coverage.md, "Budget planner")."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cakupan.accounts.models import User
from cakupan.bulk import insert_rows
from cakupan.contributions.sql import fetch
from cakupan.coverage.models import Scenario
from cakupan.coverage.planner import Plan, PlanRefused
from cakupan.coverage.snapshots import pack_ids, unpack_ids
from cakupan.exports import csv_writer, table_file
from cakupan.funding.models import FundingProgramme, Sponsor, SponsorType
from cakupan.funding.selectors import cost_of
from cakupan.funding.services import FundingInvalid, programme_create
from cakupan.membership.models import FundingAssignment, Membership
from cakupan.membership.services import membership_number
from cakupan.money import format_rupiah
from cakupan.months import add_months, parse_month
from cakupan.regions.models import Region
from cakupan.registry.models import Occupation, Worker
from cakupan.registry.nik import mask_nik
from cakupan.rules import contribution

MAX_COMPARE = 4
CHUNK = 50_000


def as_json(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    return value


@transaction.atomic
def scenario_save(*, plan: Plan, name: str, user: User | None = None) -> Scenario:
    name = " ".join(name.split())
    if not name:
        raise PlanRefused("name_required", gettext_lazy("Give the scenario a name."), "name")
    return Scenario.objects.create(
        name=name[:150],
        kind=plan.kind,
        parameters=as_json(plan.parameters),
        summary=plan.summary(),
        chosen=len(plan.chosen),
        total=plan.total,
        chosen_ids=pack_ids(np.sort(plan.chosen.ids)),
        created_by=user,
    )


def scenario_list() -> QuerySet[Scenario]:
    return Scenario.objects.select_related("created_by", "programme").defer("chosen_ids")


def scenarios_for_compare(ids: list[int]) -> list[Scenario]:
    ids = list(dict.fromkeys(ids))
    if not 2 <= len(ids) <= MAX_COMPARE:
        raise PlanRefused(
            "compare_count",
            gettext_lazy("Tick between 2 and %(max)s scenarios to compare.") % {"max": MAX_COMPARE},
            "ids",
        )
    found = {s.pk: s for s in scenario_list().filter(pk__in=ids)}
    return [found[i] for i in ids if i in found]


def first_month(scenario: Scenario) -> dt.date:
    return parse_month(scenario.parameters["first_month"][:7])


def last_month(scenario: Scenario) -> dt.date:
    return add_months(first_month(scenario), int(scenario.parameters["months"]) - 1)


# -- what a scenario shows -------------------------------------------------------------------


def key_figures(scenario: Scenario) -> list[tuple[str, str]]:
    """The headline figures as (label, value) in the active language."""
    s, p = scenario.summary, scenario.parameters
    rows = [
        (_("Kind"), str(scenario.get_kind_display())),
        (_("Funder"), str(SponsorType(p["funder"]).label)),
        (_("Months"), f"{p['first_month'][:7]} – {last_month(scenario):%Y-%m} ({p['months']})"),
        (_("Declared income"), format_rupiah(int(p["income"]))),
        (_("Uncovered candidates"), f"{s['candidates']:,}".replace(",", ".")),
        (_("Workers chosen"), f"{s['chosen']:,}".replace(",", ".")),
        (_("Total cost"), format_rupiah(s["total"])),
    ]
    if scenario.kind == Scenario.Kind.FORWARD:
        rows.insert(4, (_("Budget"), format_rupiah(int(p["budget"]))))
        rows.append((_("Budget left"), format_rupiah(s["budget_left"])))
    else:
        region = Region.objects.filter(code=p["region"]).values_list("name", flat=True).first()
        rows.insert(
            4, (_("Target UCJ"), f"{p['target']}% ({region or p['region']}, {p['by_month'][:7]})")
        )
        rows.append((_("Workers needed"), f"{s['needed']:,}".replace(",", ".")))
        if s["shortfall"]:
            rows.append((_("Not enough candidates"), f"{s['shortfall']:,}".replace(",", ".")))
        rows.append((_("Yearly cost to keep them after"), format_rupiah(s["keep_yearly"])))
    city = next((r for r in s["regions"] if r["level"] == 2), None)
    if city and city["after"] is not None:
        before, after = (number_format(city[k], decimal_pos=2) for k in ("before", "after"))
        rows.append((_("City UCJ before → after"), f"{before}% → {after}%"))
    return rows


def chosen_rows(ids: list[int] | np.ndarray) -> Iterator[list]:
    """(worker id, masked NIK, name, kelurahan, occupation) of the given workers, in order."""
    ids = [int(i) for i in ids]
    found = {
        w.pk: w for w in Worker.objects.filter(pk__in=ids).select_related("kelurahan", "occupation")
    }
    for i in ids:
        if (w := found.get(i)) is not None:
            yield [w.pk, mask_nik(w.nik), w.full_name, w.kelurahan.name, w.occupation.name]


def chosen_csv(ids: np.ndarray) -> Iterator[str]:
    """The chosen workers as CSV lines (masked NIK), streamed a chunk at a time."""

    class Line:
        def __init__(self) -> None:
            self.text = ""

        def write(self, value: str) -> None:
            self.text += value

    line = Line()
    writer = csv_writer(line)
    writer.writerow(["worker_id", "nik", _("Name"), _("Kelurahan"), _("Occupation")])
    yield line.text
    for start in range(0, len(ids), 2_000):
        line.text = ""
        writer.writerows(chosen_rows(ids[start : start + 2_000]))
        yield line.text


def scenario_xlsx(scenarios: list[Scenario]) -> bytes:
    """One sheet of key figures side by side, then per scenario its cost per month and its
    UCJ per region."""
    from openpyxl import load_workbook

    from cakupan.exports import xlsx_append

    first = table_file(
        [_("Figure"), *[s.name for s in scenarios]],
        _side_by_side(scenarios),
        "xlsx",
        title=_("Summary"),
    )
    book = load_workbook(io.BytesIO(first))
    for n, s in enumerate(scenarios, start=1):
        # a sheet's title may not hold \ / ? * [ ] :
        sheet = book.create_sheet(re.sub(r"[\\/?*\[\]:]", "-", f"{n}. {s.name}")[:31])
        xlsx_append(sheet, [_("Month"), _("Workers"), _("Cost (Rp)")])
        for month, workers, rp in s.summary["monthly"]:
            xlsx_append(sheet, [month[:7], workers, rp])
        xlsx_append(sheet, [])
        xlsx_append(
            sheet,
            [_("Region"), _("Code"), _("Employed"), _("Participants"), _("Chosen"),
             _("UCJ before (%)"), _("UCJ after (%)")],
        )  # fmt: skip
        for r in s.summary["regions"]:
            xlsx_append(
                sheet,
                [r["name"], r["code"], r["employed"], r["participants"], r["chosen"],
                 r["before"], r["after"]],
            )  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _side_by_side(scenarios: list[Scenario]) -> list[list]:
    figures = [dict(key_figures(s)) for s in scenarios]
    labels: list[str] = []
    for f in figures:
        labels += [k for k in f if k not in labels]
    rows = [[label, *[f.get(label, "") for f in figures]] for label in labels]
    rows.append([_("Total cost (Rp)"), *[s.total for s in scenarios]])
    rows.append([_("Workers chosen"), *[s.chosen for s in scenarios]])
    return rows


def scenario_pdf(scenario: Scenario, *, compress: bool = True) -> bytes:
    """The scenario in Indonesian: key figures, a bar chart of the cost per month (drawn with
    fpdf2's rectangles), the UCJ per kecamatan and the city."""
    from fpdf import FPDF

    from cakupan.contributions.invoices import pdf_text

    with translation.override("id"):
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_compression(compress)
        pdf.set_margins(15, 15, 15)
        pdf.set_title(pdf_text(scenario.name))
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.cell(0, 8, pdf_text(_("Budget plan: %(name)s") % {"name": scenario.name}),
                 new_x="LMARGIN", new_y="NEXT")  # fmt: skip
        pdf.set_font("Helvetica", "", 9)
        pdf.cell(0, 5, pdf_text(_("Made on %(date)s") % {"date": f"{scenario.created_at:%d/%m/%Y}"}),
                 new_x="LMARGIN", new_y="NEXT")  # fmt: skip
        pdf.ln(2)
        for label, value in key_figures(scenario):
            pdf.cell(70, 5, pdf_text(label))
            pdf.cell(0, 5, pdf_text(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        _bar_chart(pdf, scenario.summary["monthly"])
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, 6, pdf_text(_("UCJ per region")), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 8)
        widths = (60, 25, 25, 20, 25, 25)
        for text, w in zip(
            (_("Region"), _("Employed"), _("Participants"), _("Chosen"), _("Before (%)"),
             _("After (%)")),
            widths,
            strict=True,
        ):  # fmt: skip
            pdf.cell(w, 5, pdf_text(text), border="B")
        pdf.ln()
        for r in scenario.summary["regions"]:
            if r["level"] > 3:
                continue
            cells = (r["name"], r["employed"] or "-", r["participants"], r["chosen"],
                     r["before"] if r["before"] is not None else "-",
                     r["after"] if r["after"] is not None else "-")  # fmt: skip
            for value, w in zip(cells, widths, strict=True):
                pdf.cell(w, 5, pdf_text(value))
            pdf.ln()
        return bytes(pdf.output())


def _bar_chart(pdf, monthly: list) -> None:
    from cakupan.contributions.invoices import pdf_text

    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, pdf_text(_("Cost per month (Rp)")), new_x="LMARGIN", new_y="NEXT")
    if not monthly:
        return
    top = max(rp for _m, _n, rp in monthly) or 1
    x0, y0, height = pdf.l_margin, pdf.get_y() + 2, 50.0
    width = (pdf.w - pdf.l_margin - pdf.r_margin) / len(monthly)
    pdf.set_fill_color(31, 111, 178)
    pdf.set_font("Helvetica", "", 6)
    for i, (month, _n, rp) in enumerate(monthly):
        h = height * rp / top
        pdf.rect(x0 + i * width + width * 0.1, y0 + height - h, width * 0.8, h, style="F")
        if len(monthly) <= 24 or i % 3 == 0:
            pdf.text(x0 + i * width + width * 0.1, y0 + height + 3, month[2:7])
    pdf.line(x0, y0 + height, pdf.w - pdf.r_margin, y0 + height)
    pdf.text(x0, y0 - 0.5, pdf_text(format_rupiah(top)))
    pdf.set_y(y0 + height + 5)


# -- a scenario becomes a programme ----------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeMade:
    programme: FundingProgramme
    enrolled: int
    became_members: int  # a membership now covers some of the programme's months
    earlier_members: int  # a membership that ended before (or starts after): enrol one by one
    gone: int  # no longer in the registry


def scenario_to_programme(
    *, scenario: Scenario, sponsor: Sponsor, name: str, user: User | None = None
) -> ProgrammeMade:
    """Create the funding programme of a scenario with its cohort, all or nothing: the
    programme, a BPU membership and a funding assignment for each chosen worker who is still
    not a member, priced by the rules engine. Workers who have a membership now are left out
    and counted. Refused when the scenario already became a programme."""
    try:
        with transaction.atomic():
            return _to_programme(scenario=scenario, sponsor=sponsor, name=name, user=user)
    except FundingInvalid as e:
        field, messages = next(iter(e.errors.items()))
        raise PlanRefused("programme_invalid", " ".join(messages), field) from None
    except IntegrityError:
        raise PlanRefused(
            "concurrent",
            gettext_lazy("Some workers were enrolled meanwhile; try again."),
            None,
        ) from None


def _to_programme(
    *, scenario: Scenario, sponsor: Sponsor, name: str, user: User | None
) -> ProgrammeMade:
    scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
    if scenario.programme_id is not None:
        raise PlanRefused(
            "already_programme",
            gettext_lazy("This scenario already became the programme %(name)s.")
            % {"name": scenario.programme.name},
            None,
        )
    p = scenario.parameters
    if sponsor.type != p["funder"]:
        raise PlanRefused(
            "funder_mismatch",
            gettext_lazy(
                "The scenario was priced for a %(planned)s funder; choose a sponsor of that type."
            )
            % {"planned": SponsorType(p["funder"]).label},
            "sponsor",
        )
    first, last = first_month(scenario), last_month(scenario)
    ids = unpack_ids(scenario.chosen_ids)
    # the chosen workers still in the registry, with their occupation's sector
    rows = np.array(fetch(f"SELECT id, occupation_id FROM {Worker._meta.db_table}"), dtype=np.int64)
    rows = rows.reshape(-1, 2)
    present = rows[np.isin(rows[:, 0], ids)]
    gone = len(ids) - len(present)
    members = np.array(
        Membership.objects.filter(category=Membership.Category.BPU).values_list(
            "worker_id", "start_month", "end_month"
        ),
        dtype=object,
    ).reshape(-1, 3)
    mine = members[np.isin(members[:, 0].astype(np.int64), present[:, 0])] if len(members) else []
    covering = {int(w) for w, start, end in mine if start <= last and (end is None or end >= first)}
    earlier = {int(w) for w, _s, _e in mine} - covering
    keep = present[~np.isin(present[:, 0], np.array(sorted(covering | earlier), dtype=np.int64))]
    sector_of = dict(Occupation.objects.values_list("pk", "sector"))
    sectors = np.array([sector_of[int(o)] for o in keep[:, 1]], dtype=object)
    programmes = ["jkk", "jkm", *(["jht"] if p.get("jht") else [])]
    programme = programme_create(
        sponsor=sponsor,
        name=name,
        fiscal_year=first.year,
        first_month=first,
        last_month=last,
        budget=0,
        programmes=programmes,
        declared_income=int(p["income"]),
        created_by=user,
    )
    distinct = sorted(set(sectors.tolist()))
    price = dict(
        zip(
            distinct,
            cost_of(
                programme=programme,
                incomes=[programme.declared_income] * len(distinct),
                sectors=distinct,
                first_months=[first] * len(distinct),
                last_months=[last] * len(distinct),
            ).tolist(),
            strict=True,
        )
    )
    committed = [int(price[s]) for s in sectors]
    programme.budget = sum(committed)
    programme.save(update_fields=["budget"])
    workers = keep[:, 0].tolist()
    if workers:
        bracket = contribution(
            category="bpu",
            income=programme.declared_income,
            month=first,
            programmes=programmes,
            funding=sponsor.rules_funding,
        ).bracket
        for start in range(0, len(workers), CHUNK):
            part = workers[start : start + CHUNK]
            insert_rows(
                Membership,
                {"worker_id": part, "number": [membership_number(w) for w in part]},
                {
                    "category": Membership.Category.BPU,
                    "programmes": programmes,
                    "declared_income": programme.declared_income,
                    "bracket": bracket,
                    "start_month": first,
                    "created_by": user,
                },
            )
        new = dict(
            Membership.objects.filter(
                category=Membership.Category.BPU, start_month=first, fundings__isnull=True
            ).values_list("worker_id", "id")
        )
        membership_ids = [new[w] for w in workers]
        for start in range(0, len(workers), CHUNK):
            insert_rows(
                FundingAssignment,
                {
                    "membership_id": membership_ids[start : start + CHUNK],
                    "committed": committed[start : start + CHUNK],
                },
                {"programme": programme, "first_month": first, "last_month": last},
            )
    scenario.programme = programme
    scenario.save(update_fields=["programme"])
    return ProgrammeMade(programme, len(workers), len(covering), len(earlier), gone)
