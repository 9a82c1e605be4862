"""The reports as PDFs (docs/coverage.md, "Reports"):
- the city's UCJ report: coverage of a closed month against the year's target, the trend,
  the gap in participants, each kecamatan, and the source of every figure, from the frozen
  snapshots only, so a report of a closed month printed twice says the same;
- a sponsor's impact report: per programme, workers covered, months protected, contributions
  paid, claims paid to families, scholarships running (coverage.selectors.impact). Charts are drawn by matplotlib; the PDF is written by fpdf2 in
its built-in fonts (Latin-1: contributions.cardpdf.latin_text keeps the text printable).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass, field

from babel.dates import format_date
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from fpdf import FPDF

from cakupan.contributions.cardpdf import latin_text
from cakupan.contributions.invoices import month_name
from cakupan.coverage.models import Area, Scenario, Snapshot, Target
from cakupan.coverage.selectors import ProgrammeImpact, latest_closed, snapshot_of, target_for
from cakupan.errors import Refused
from cakupan.funding.models import Sponsor, SponsorType
from cakupan.regions.models import Level, Region


def _locale() -> str:
    return "en" if (get_language() or "id").startswith("en") else "id"


def percent(value: float | None) -> str:
    """12.345 → '12,35%' (Indonesian decimal comma); None → '–'."""
    return "–" if value is None else f"{value:.2f}%".replace(".", ",")


def number(value: int | None) -> str:
    return "–" if value is None else f"{value:,}".replace(",", ".")


@dataclass
class CityReport:
    city: Region
    snapshot: Snapshot
    area: Area
    target: Target | None
    trend: list[tuple[dt.date, float | None, bool]]  # month, UCJ, closed
    kecamatan: list[tuple[str, Area]] = field(default_factory=list)
    plan: Scenario | None = None  # the plan the report presents (a saved scenario)

    @property
    def gap_participants(self) -> int | None:
        """Participants still needed to reach the target (0 once reached)."""
        if self.target is None or not self.area.employed:
            return None
        needed = math.ceil(float(self.target.percent) * self.area.employed / 100)
        return max(0, needed - self.area.participants)


def city_report_data(
    month: dt.date | None = None, *, scenario: Scenario | None = None
) -> CityReport:
    """The report of `month`, or of the latest closed month, with `scenario` as its plan (by
    default the latest saved one)."""
    snapshot = latest_closed() if month is None else snapshot_of(month)
    if snapshot is None:
        raise Refused(
            "no_snapshot",
            _("There are no coverage figures for that month yet: build the month's snapshot first.")
            if month
            else _("No month is closed yet: the report is of a closed month."),
            "month",
        )
    area = snapshot.areas.filter(level=Level.REGENCY).order_by("region").first()
    if area is None:
        raise Refused(
            "no_city",
            _("The month holds no figures for the city: no worker is registered."),
            "month",
        )
    city = Region.objects.get(code=area.region)
    trend = [
        (a.snapshot.month, a.ucj, a.snapshot.status == Snapshot.Status.CLOSED)
        for a in Area.objects.filter(region=city.code, snapshot__month__lte=snapshot.month)
        .select_related("snapshot")
        .order_by("-snapshot__month")[:12]
    ][::-1]
    names = dict(Region.objects.filter(parent_id=city.code).values_list("code", "name"))
    kecamatan = sorted(
        ((names.get(a.region, a.region), a) for a in snapshot.areas.filter(level=Level.KECAMATAN)),
        key=lambda pair: pair[0],
    )
    return CityReport(
        city,
        snapshot,
        area,
        target_for(city.code, snapshot.month.year),
        trend,
        kecamatan,
        scenario or Scenario.objects.first(),
    )


def _figure(height: float):
    """A matplotlib figure drawn off-screen (Agg): no display, no global pyplot state."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=(7.5, height), dpi=150)


def _png(fig) -> bytes:
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _trend_png(report: CityReport) -> bytes:
    fig = _figure(2.8)
    ax = fig.subplots()
    months = [format_date(m, "MMM yy", locale=_locale()) for m, _u, _c in report.trend]
    values = [u if u is not None else float("nan") for _m, u, _c in report.trend]
    ax.plot(months, values, marker="o", color="#1f6f8b", label=_("UCJ (%)"))
    for i, (_m, u, closed) in enumerate(report.trend):
        if not closed and u is not None:
            ax.plot([months[i]], [u], marker="o", color="white", markeredgecolor="#1f6f8b")
    if report.target is not None:
        ax.axhline(
            float(report.target.percent),
            color="#c0392b",
            linestyle="--",
            label=_("Target %(year)s") % {"year": report.target.year},
        )
    ax.set_ylabel("%")
    ax.set_ylim(bottom=0)
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def _kecamatan_png(report: CityReport) -> bytes:
    fig = _figure(2.6)
    ax = fig.subplots()
    names = [name for name, _a in report.kecamatan]
    values = [
        a.ucj if a.ucj is not None else (100 * a.bpu_active / a.registered if a.registered else 0)
        for _n, a in report.kecamatan
    ]
    colors = ["#1f6f8b" if a.ucj is not None else "#95a5a6" for _n, a in report.kecamatan]
    ax.barh(names, values, color=colors)
    for i, v in enumerate(values):
        ax.text(v, i, " " + percent(v), va="center", fontsize=7)
    ax.set_xlabel("%")
    ax.set_xlim(0, max(values, default=0) * 1.18 or 1)
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


class _Pdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4")
        self._footer_text = footer_text
        self.set_auto_page_break(True, margin=18)
        self.set_margins(16, 16, 16)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.set_text_color(110)
        self.cell(0, 5, latin_text(f"{self._footer_text} - {self.page_no()}"), align="C")

    def heading(self, text: str, size: int = 12) -> None:
        self.set_font("Helvetica", "B", size)
        self.set_text_color(20)
        self.multi_cell(0, 7, latin_text(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def text(self, text: str, size: int = 9) -> None:  # type: ignore[override]
        self.set_font("Helvetica", size=size)
        self.set_text_color(30)
        self.multi_cell(0, 5, latin_text(text), new_x="LMARGIN", new_y="NEXT")

    def table(self, header: list[str], rows: list[list[str]], widths: list[float]) -> None:  # type: ignore[override]
        self.set_font("Helvetica", "B", 8)
        for i, (text, width) in enumerate(zip(header, widths, strict=True)):
            self.cell(width, 6, latin_text(text), border="B", align="L" if i == 0 else "R")
        self.ln()
        self.set_font("Helvetica", size=8)
        for row in rows:
            for i, (text, width) in enumerate(zip(row, widths, strict=True)):
                self.cell(width, 5.5, latin_text(text), align="L" if i == 0 else "R")
            self.ln()
        self.ln(2)


def _plan(pdf: _Pdf, plan: Scenario) -> None:
    """The plan: a saved scenario's workers, cost and the UCJ it reaches."""
    summary = plan.summary
    params = plan.parameters
    pdf.heading(_("The plan: %(name)s") % {"name": plan.name})
    funder = dict(SponsorType.choices).get(params.get("funder", ""), params.get("funder", ""))
    lines = [
        [_("Kind"), str(plan.get_kind_display())],
        [_("Funder"), str(funder)],
        [_("Workers to cover"), number(summary.get("chosen"))],
        [_("Cost over the plan (Rp)"), number(summary.get("total"))],
    ]
    lines += [
        [_("Cost in %(year)s (Rp)") % {"year": y}, number(rp)]
        for y, rp in summary.get("by_year", [])
    ]
    city = next((r for r in summary.get("regions", []) if r.get("level") == Level.REGENCY), None)
    if city is not None:
        lines.append(
            [
                _("City UCJ now → with the plan"),
                f"{percent(city.get('before'))} → {percent(city.get('after'))}",
            ]
        )
    pdf.table([_("The plan"), ""], lines, [120, 58])
    made = (
        ""
        if plan.programme_id is None
        else _("Made a funding programme: %(name)s.") % {"name": plan.programme.name}
    )
    pdf.text(
        (_("Saved on %(day)s.") % {"day": f"{timezone.localtime(plan.created_at):%d-%m-%Y}"})
        + (" " + made if made else ""),
        size=8,
    )
    pdf.ln(2)


def city_report_pdf(report: CityReport) -> bytes:
    """The report as PDF bytes, in the active language (Indonesian by default)."""
    s, a = report.snapshot, report.area
    made = timezone.localtime()
    pdf = _Pdf(
        _("cakupan - UCJ report %(city)s %(month)s, printed %(day)s")
        % {"city": report.city.name, "month": month_name(s.month), "day": f"{made:%d-%m-%Y %H:%M}"}
    )
    pdf.add_page()
    pdf.heading(
        _("Universal Coverage Jamsostek (UCJ) %(city)s") % {"city": report.city.name}, size=15
    )
    status = _("closed") if s.status == Snapshot.Status.CLOSED else _("provisional")
    pdf.text(
        _(
            "Month %(month)s (%(status)s): contributions as recorded in the cakupan ledger on %(day)s."
        )
        % {"month": month_name(s.month), "status": status, "day": f"{s.as_of:%d-%m-%Y}"}
    )
    pdf.ln(2)
    pdf.heading(_("UCJ %(value)s") % {"value": percent(a.ucj)}, size=20)
    if report.target is not None:
        t = report.target
        gap = report.gap_participants
        pdf.text(
            _(
                "Target %(year)s: %(target)s (%(plan)s). Gap: %(points)s points, %(people)s participants."
            )
            % {
                "year": t.year,
                "target": percent(float(t.percent)),
                "plan": t.get_kind_display(),
                "points": percent(max(0.0, float(t.percent) - (a.ucj or 0))).rstrip("%"),
                "people": number(gap),
            }
        )
    else:
        pdf.text(_("No target is recorded for %(year)s.") % {"year": s.month.year})
    pdf.ln(2)
    pdf.heading(_("Participants"))
    pdf.table(
        [_("Category"), _("Participants")],
        [
            [_("Non-wage earners (BPU) active, cakupan registry"), number(a.bpu_active)],
            [_("Wage earners (PU)"), number(a.pu)],
            [_("Construction (Jakon)"), number(a.jakon)],
            [_("Migrant workers (PMI)"), number(a.pmi)],
            [_("Total participants"), number(a.participants)],
            [_("Employed population"), number(a.employed)],
        ],
        [120, 58],
    )
    if len(report.trend) > 1:
        pdf.heading(_("Trend"))
        pdf.image(io.BytesIO(_trend_png(report)), w=178)
        pdf.text(_("Hollow points: months still provisional."), size=7)
        pdf.ln(2)
    if report.kecamatan:
        pdf.heading(_("By kecamatan"))
        pdf.image(io.BytesIO(_kecamatan_png(report)), w=178)
        pdf.text(
            _(
                "A kecamatan's UCJ counts the PU, Jakon and PMI participants recorded for the "
                "kecamatan itself. Grey bars: no denominator for the kecamatan; the share of its "
                "registered workers who are active."
            ),
            size=7,
        )
        pdf.table(
            [_("Kecamatan"), _("Registered"), _("BPU active"), _("Employed"), _("UCJ")],
            [
                [
                    name,
                    number(k.registered),
                    number(k.bpu_active),
                    number(k.employed),
                    percent(k.ucj),
                ]
                for name, k in report.kecamatan
            ],
            [58, 30, 30, 30, 30],
        )
    if report.plan is not None:
        _plan(pdf, report.plan)
    pdf.heading(_("Sources"))
    lines = [
        _("Employed population: %(source)s.") % {"source": a.employed_source or "–"},
        _("PU, Jakon, PMI: %(source)s.") % {"source": a.aggregates_source or "–"},
        _("BPU: the cakupan registry and contributions ledger as of %(day)s.")
        % {"day": f"{s.as_of:%d-%m-%Y}"},
    ]
    if report.target is not None:
        lines.append(_("Target: %(source)s.") % {"source": report.target.cite()})
    for line in lines:
        pdf.text("- " + line, size=8)
    return bytes(pdf.output())


def _impact_png(rows: list[ProgrammeImpact]) -> bytes:
    fig = _figure(2.8)
    ax = fig.subplots()
    for r in rows:
        if not r.active_by_month:
            continue
        months = [format_date(m, "MMM yy", locale=_locale()) for m, _s, _n in r.active_by_month]
        (line,) = ax.plot(
            months, [n for _m, _s, n in r.active_by_month], marker="o", label=r.programme.name
        )
        for month, (_m, status, n) in zip(months, r.active_by_month, strict=True):
            if status != Snapshot.Status.CLOSED:
                ax.plot([month], [n], marker="o", color="white", markeredgecolor=line.get_color())
    ax.set_ylabel(_("Active workers"))
    ax.set_ylim(bottom=0)
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def impact_pdf(sponsor: Sponsor, rows: list[ProgrammeImpact]) -> bytes:
    """A sponsor's impact report as PDF bytes, in the active language."""
    made = timezone.localtime()
    pdf = _Pdf(
        _("cakupan - impact of %(sponsor)s, printed %(day)s")
        % {"sponsor": sponsor.name, "day": f"{made:%d-%m-%Y %H:%M}"}
    )
    pdf.add_page()
    pdf.heading(_("Impact of %(sponsor)s") % {"sponsor": sponsor.name}, size=15)
    pdf.text(
        _(
            "Workers covered and months protected: the monthly coverage figures (closed months "
            "are final, provisional ones may still rise). Money: the cakupan ledger and claims "
            "as of %(day)s."
        )
        % {"day": f"{made:%d-%m-%Y}"}
    )
    pdf.ln(2)
    if not rows:
        pdf.text(_("This sponsor has no programme yet."))
        return bytes(pdf.output())
    for r in rows:
        p = r.programme
        pdf.heading(f"{p.name} ({p.first_month:%m/%Y} - {p.last_month:%m/%Y})", size=11)
        pdf.table(
            [_("Figure"), _("Value")],
            [
                [_("Active workers (latest closed month)"), number(r.active_latest)],
                [_("Worker-months protected"), number(r.months_protected)],
                [_("Contributions paid (Rp)"), number(r.contributions_paid)],
                [_("Claims paid"), number(r.claims_paid)],
                [_("Paid to families (Rp)"), number(r.claims_paid_amount)],
                [_("Scholarships running"), number(r.scholarships_running)],
                [_("Scholarship instalments still to pay (Rp)"), number(r.scholarships_to_pay)],
            ],
            [120, 58],
        )
    if any(r.active_by_month for r in rows):
        pdf.heading(_("Active workers per month"))
        pdf.image(io.BytesIO(_impact_png(rows)), w=178)
        pdf.text(
            _("Hollow points: months still provisional (their contributions may still be paid)."),
            size=7,
        )
    return bytes(pdf.output())
