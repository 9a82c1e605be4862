"""The coverage pages' figures: each chart (coverage.charts) filled from the selectors, with
the source of its figures and the link behind each bar (the list of workers, or the region's
own page). Shared by the pages and the charts' CSV views."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cakupan.coverage import charts, selectors
from cakupan.coverage.models import Snapshot
from cakupan.coverage.snapshots import AGE_BAND_LABELS
from cakupan.regions.models import Level
from cakupan.regions.selectors import city_code
from cakupan.registry.models import Sex


def percent_text(value: float | None) -> str:
    return "–" if value is None else f"{number_format(round(value, 2), 2)}%"


def count_text(n: int) -> str:
    return number_format(n, 0, force_grouping=True)


def list_url(snapshot: Snapshot, status: str, **filters: object) -> str:
    query = {"bulan": f"{snapshot.month:%Y-%m}", "status": status}
    query.update({k: str(v) for k, v in filters.items() if v not in (None, "")})
    return f"{reverse('coverage:workers')}?{urlencode(query)}"


def as_of(snapshot: Snapshot) -> str:
    return _("cakupan ledger, as of %(date)s") % {"date": f"{snapshot.as_of:%d-%m-%Y}"}


def region_chart(snapshot: Snapshot, parent: str, key: str, title: str) -> charts.Chart:
    rows = selectors.area_rows(snapshot, parent)
    sources = sorted({r.employed_source for r in rows if r.employed_source})
    links = [
        reverse("coverage:region", args=[r.code]) + f"?bulan={snapshot.month:%Y-%m}"
        if r.level == Level.KECAMATAN
        else list_url(snapshot, selectors.REGISTERED, wilayah=r.code)
        for r in rows
    ]
    ucj, share = _("UCJ"), _("active of registered")
    texts = [
        f"{percent_text(r.ucj)} {ucj}" if r.ucj is not None else f"{percent_text(r.share)} {share}"
        for r in rows
    ]
    note = "; ".join(
        [_("Denominator: %(sources)s") % {"sources": "; ".join(sources)}] if sources else []
    )
    note = (note + "; " if note else "") + as_of(snapshot)
    return charts.bars(
        key,
        title,
        labels=[r.name for r in rows],
        values=[r.value for r in rows],
        texts=texts,
        links=links,
        colors=[charts.BRAND if r.ucj is not None else charts.PROVISIONAL for r in rows],
        axis=_("UCJ, or the share of registered workers who are active (%)"),
        headers=[
            _("Region"),
            _("UCJ (%)"),
            _("Active of registered (%)"),
            _("BPU active"),
            _("Registered"),
            _("Employed population"),
            _("Denominator source"),
        ],
        rows=[
            [
                r.name,
                round(r.ucj, 2) if r.ucj is not None else "",
                round(r.share, 2) if r.share is not None else "",
                r.active,
                r.registered,
                r.employed if r.employed is not None else "",
                r.employed_source,
            ]
            for r in rows
        ],
        note=note,
    )


def group_chart(
    snapshot: Snapshot,
    dimension: str,
    key: str,
    title: str,
    filters: selectors.Filters | None = None,
) -> charts.Chart:
    filters = filters or selectors.Filters()
    groups = selectors.breakdown(snapshot, dimension, filters)
    param = {"occupation": "pekerjaan", "sex": "jk", "age_band": "usia", "decile": "desil"}
    base = filters.query()
    links = [
        list_url(snapshot, selectors.REGISTERED, **{**base, param[dimension]: g.key})
        for g in groups
    ]
    return charts.bars(
        key,
        title,
        labels=[g.label for g in groups],
        values=[g.count.share or 0 for g in groups],
        texts=[
            f"{percent_text(g.count.share)} ({count_text(g.count.active)}/{count_text(g.count.registered)})"
            for g in groups
        ],
        links=links,
        axis=_("Active of registered BPU workers (%)"),
        headers=[
            _("Group"),
            _("Active of registered (%)"),
            _("Active"),
            _("Members"),
            _("Registered"),
        ],
        rows=[
            [
                g.label,
                round(g.count.share, 2) if g.count.share is not None else "",
                g.count.active,
                g.count.members,
                g.count.registered,
            ]
            for g in groups
        ],
        note=as_of(snapshot),
    )


def programme_chart(snapshot: Snapshot) -> charts.Chart:
    groups = selectors.programme_share(snapshot)
    total = sum(g.count.active for g in groups) or 1
    return charts.bars(
        "program",
        _("Who pays for the active workers"),
        labels=[g.label for g in groups],
        values=[100 * g.count.active / total for g in groups],
        texts=[
            f"{percent_text(100 * g.count.active / total)} ({count_text(g.count.active)})"
            for g in groups
        ],
        links=[list_url(snapshot, selectors.ACTIVE, program=g.key) for g in groups],
        axis=_("Share of the active workers (%)"),
        headers=[_("Programme (sponsor)"), _("Share of the active workers (%)"), _("Active")],
        rows=[[g.label, round(100 * g.count.active / total, 2), g.count.active] for g in groups],
        note=as_of(snapshot),
    )


def trend_chart() -> charts.Chart:
    points = selectors.trend()
    latest = points[-1].month.year if points else timezone.localdate().year
    targets = selectors.targets_of(latest)
    sources = sorted({p.employed_source for p in points if p.employed_source})
    note = "; ".join(
        ([_("Denominator: %(sources)s") % {"sources": "; ".join(sources)}] if sources else [])
        + [_("Target: %(source)s") % {"source": t.source} for t in targets]
        + ([as_of_text(points[-1].as_of)] if points else [])
    )
    return charts.trend(
        "tren",
        _("UCJ month by month"),
        months=[f"{p.month:%m/%Y}" for p in points],
        values=[round(p.ucj, 2) if p.ucj is not None else None for p in points],
        provisional=[p.status == Snapshot.Status.PROVISIONAL for p in points],
        targets=[(t.label, t.percent) for t in targets],
        labels=(_("Closed month"), _("Provisional")),
        axis="UCJ (%)",
        headers=[_("Month"), _("Status"), _("UCJ (%)"), _("BPU active"), _("Ledger as of")],
        rows=[
            [
                f"{p.month:%Y-%m}",
                str(dict(Snapshot.Status.choices)[p.status]),
                round(p.ucj, 2) if p.ucj is not None else "",
                p.bpu_active,
                f"{p.as_of:%Y-%m-%d}",
            ]
            for p in points
        ],
        note=note,
    )


def as_of_text(day: dt.date) -> str:
    return _("cakupan ledger, as of %(date)s") % {"date": f"{day:%d-%m-%Y}"}


def split_chart(head: selectors.Headline) -> charts.Chart:
    split = head.split
    city = head.city
    note = "; ".join(
        s
        for s in (
            as_of(head.snapshot),
            (_("PU, Jakon, PMI: %(sources)s") % {"sources": city.aggregates_source})
            if city and city.aggregates_source
            else "",
        )
        if s
    )
    return charts.split(
        "peserta",
        _("Participants by kind"),
        labels=[label for _k, label, _n in split],
        values=[n for _k, _l, n in split],
        headers=[_("Kind"), _("Participants")],
        rows=[[label, n] for _k, label, n in split],
        note=note,
    )


# the breakdowns of BPU coverage: chart key → the cells' column and the title
GROUP_CHARTS = {
    "pekerjaan": ("occupation", gettext_lazy("BPU coverage by occupation")),
    "jk": ("sex", gettext_lazy("BPU coverage by sex")),
    "usia": ("age_band", gettext_lazy("BPU coverage by age")),
    "desil": ("decile", gettext_lazy("BPU coverage by welfare decile")),
}


def group_charts(
    snapshot: Snapshot, filters: selectors.Filters | None = None, keys: tuple = ()
) -> dict:
    return {
        key: group_chart(snapshot, dimension, key, str(title), filters)
        for key, (dimension, title) in GROUP_CHARTS.items()
        if not keys or key in keys
    }


def dashboard_charts(snapshot: Snapshot, head: selectors.Headline | None) -> dict:
    out = {
        "tren": trend_chart(),
        "kecamatan": region_chart(snapshot, city_code(), "kecamatan", _("Coverage by kecamatan")),
        **group_charts(snapshot),
        "program": programme_chart(snapshot),
    }
    if head is not None:
        out["peserta"] = split_chart(head)
    return out


def with_csv(found: dict, query: dict) -> dict:
    """The charts with the link to each one's CSV (the page's month and region)."""
    q = {k: f"{v:%Y-%m}" if isinstance(v, dt.date) else v for k, v in query.items()}
    for chart in found.values():
        chart.csv_url = f"{reverse('coverage:chart_csv', args=[chart.key])}?{urlencode(q)}"
    return found


def uncovered_charts(snapshot: Snapshot, filters: selectors.Filters) -> dict:
    out = {}
    for dimension, key, title in (
        ("kelurahan", "belum-kelurahan", _("Not protected, by kelurahan")),
        ("occupation", "belum-pekerjaan", _("Not protected, by occupation")),
    ):
        groups = selectors.uncovered_by(snapshot, dimension, filters)
        param = "wilayah" if dimension == "kelurahan" else "pekerjaan"
        labels = [f"{g.label} ({g.parent})" if g.parent else g.label for g in groups]
        out[key.replace("-", "_")] = charts.bars(
            key,
            title,
            labels=labels,
            values=[g.count.not_active for g in groups],
            texts=[count_text(g.count.not_active) for g in groups],
            links=[
                list_url(snapshot, selectors.NOT_ACTIVE, **{**filters.query(), param: g.key})
                for g in groups
            ],
            axis=_("Registered workers not active"),
            headers=[_("Group"), _("Not active"), _("Registered")],
            rows=[
                [label, g.count.not_active, g.count.registered]
                for label, g in zip(labels, groups, strict=True)
            ],
            note=as_of(snapshot),
            percent=False,
        )
    return out


def impact_chart(rows: list[selectors.ProgrammeImpact]) -> charts.Chart | None:
    months = sorted({m for r in rows for m, _s, _n in r.active_by_month})
    if not months:
        return None
    status = {m: s for r in rows for m, s, _n in r.active_by_month}
    per = {r.programme.pk: {m: n for m, _s, n in r.active_by_month} for r in rows}
    return charts.lines(
        "dampak",
        _("Workers covered (active) per month"),
        months=[f"{m:%m/%Y}" for m in months],
        series=[(r.programme.name, [per[r.programme.pk].get(m, 0) for m in months]) for r in rows],
        provisional=[status[m] == Snapshot.Status.PROVISIONAL for m in months],
        axis=_("Active workers"),
        headers=[_("Month"), _("Status"), *[r.programme.name for r in rows]],
        rows=[
            [
                f"{m:%Y-%m}",
                str(dict(Snapshot.Status.choices)[status[m]]),
                *[per[r.programme.pk].get(m, 0) for r in rows],
            ]
            for m in months
        ],
        note=_("Coverage snapshots of the cakupan ledger"),
    )


def filter_words(filters: selectors.Filters) -> list[str]:
    """The filters in words, for the list's title and file."""
    words = []
    if filters.region:
        path = selectors.region_path(filters.region)
        if path:
            words.append(path[-1].name)
    if filters.occupation is not None:
        words.append(dict(selectors.occupations()).get(filters.occupation, ""))
    if filters.sex:
        words.append(str(dict(Sex.choices).get(filters.sex, "")))
    if filters.age_band is not None and 0 <= filters.age_band < len(AGE_BAND_LABELS):
        words.append(_("age %(band)s") % {"band": AGE_BAND_LABELS[filters.age_band]})
    if filters.decile is not None:
        words.append(
            _("decile %(d)s") % {"d": filters.decile}
            if filters.decile
            else _("decile not recorded")
        )
    if filters.programme is not None:
        words.append(
            dict(selectors.programmes()).get(filters.programme, "")
            if filters.programme
            else _("Self-paid or no programme")
        )
    return [w for w in words if w]
