"""The dashboard's charts: Plotly figures built in Python as plain figure dicts (data and
layout, as plotly.js takes them), sent to the page as JSON in a `<script type="application/
json">` element and drawn by our static coverage/charts.js with the plotly.min.js the `plotly`
package ships (served from the installed package, settings.STATICFILES_DIRS): nothing inline,
nothing from a CDN. Not through plotly.graph_objects: validating every property on every
request took most of the dashboard's time (about 100 ms of 130 at a million workers); the
tests validate each figure with plotly.io instead (coverage/tests/test_dashboard.py).

Each chart also has its figures as rows (`Chart.rows`), which the page shows as a table with
the links behind the bars and the CSV view downloads.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

BRAND = "#0b6e4f"  # app.css --brand
PROVISIONAL = "#9fc9b8"  # provisional months; regions without a denominator
TARGET = "#c0392b"
# The Content-Security-Policy allows no inline style. plotly.min.js adds two <style> elements
# when it loads: an empty one whose rules it then inserts through the CSSOM (which the CSP does
# not govern), and MapLibre's map stylesheet. The chart pages allow exactly those two texts by
# their hashes (the empty string's, and MapLibre's stylesheet as the installed plotly.js 4.1.1
# writes it), nothing else: no 'unsafe-inline', and inline style attributes stay refused. A
# plotly upgrade that changes them shows as a violation in tests/browser/test_coverage_dashboard.
PLOTLY_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='",
]
FONT = {"family": "system-ui, Segoe UI, Roboto, sans-serif", "size": 13}


@dataclass
class Chart:
    """A figure and the table of its figures."""

    key: str  # element id and file name stem
    title: str
    figure: str  # Plotly JSON
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # one per row ("" none)
    note: str = ""  # the figures' sources and date
    filename: str = ""
    csv_url: str = ""  # set by the page: the chart's CSV view with the page's query

    @property
    def figure_data(self) -> dict:
        """The figure as data, for the json_script filter (which escapes it for the page)."""
        return json.loads(self.figure)

    @property
    def table(self) -> list[tuple[list, str]]:
        links = self.links or [""] * len(self.rows)
        return list(zip(self.rows, links, strict=False))


def _layout(*, height: int, left: int = 10, **extra: object) -> dict:
    return {
        "font": FONT,
        "height": height,
        "margin": {"l": left, "r": 20, "t": 10, "b": 40},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "showlegend": False,
        "hoverlabel": {"font": FONT},
        **extra,
    }


def _figure(data: list[dict], layout: dict) -> str:
    return json.dumps({"data": data, "layout": layout}, ensure_ascii=False)


WRAP = 28  # characters: a longer label takes several lines beside its bar


def _wrapped(labels: Sequence[str]) -> list[str]:
    """Long labels (a programme with its sponsor) broken into lines, so the bars keep their
    room in a half-width card: Plotly draws `<br>` in a tick label as a line break."""
    return ["<br>".join(textwrap.wrap(str(s), WRAP)) or str(s) for s in labels]


def bars(
    key: str,
    title: str,
    *,
    labels: Sequence[str],
    values: Sequence[float],
    texts: Sequence[str],
    links: Sequence[str],
    axis: str,
    headers: list[str],
    rows: list[list],
    note: str,
    colors: Sequence[str] | None = None,
    percent: bool = True,
) -> Chart:
    """Sorted horizontal bars, the first row on top; a bar's link opens the list behind it."""
    labels = _wrapped(labels)
    bar = {
        "type": "bar",
        "orientation": "h",
        "y": labels,
        "x": [round(v, 2) for v in values],
        "text": list(texts),
        "textposition": "auto",
        "customdata": list(links),
        "marker": {"color": list(colors) if colors else BRAND},
        "hovertemplate": "%{y}: %{text}<extra></extra>",
        "cliponaxis": False,
    }
    longest = max((len(line) for s in labels for line in s.split("<br>")), default=5)
    lines = sum(s.count("<br>") + 1 for s in labels)
    layout = _layout(
        height=max(160, 28 * len(labels) + 12 * (lines - len(labels)) + 70),
        left=min(220, 7 * longest + 10),
        yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
        xaxis={
            "title": {"text": axis},
            "rangemode": "tozero",
            "ticksuffix": "%" if percent else "",
        },
    )
    return Chart(
        key,
        title,
        _figure([bar], layout),
        headers,
        rows,
        list(links),
        note,
        filename=f"cakupan-{key}",
    )


def trend(
    key: str,
    title: str,
    *,
    months: Sequence[str],
    values: Sequence[float | None],
    provisional: Sequence[bool],
    targets: Sequence[tuple[str, float]],
    labels: tuple[str, str],
    axis: str,
    headers: list[str],
    rows: list[list],
    note: str,
) -> Chart:
    """The city's UCJ month by month: closed months a solid line, provisional ones dashed and
    hollow; each target of the period a dotted line."""
    closed_y = [v if not p else None for v, p in zip(values, provisional, strict=True)]
    data = [
        {
            "type": "scatter",
            "x": list(months),
            "y": closed_y,
            "name": labels[0],
            "mode": "lines+markers",
            "line": {"color": BRAND, "width": 3},
            "hovertemplate": "%{x}: %{y:.2f}%<extra></extra>",
        }
    ]
    # the provisional months, joined to the last closed one with a dashed line
    prov_y: list[float | None] = [None] * len(values)
    for i, (v, p) in enumerate(zip(values, provisional, strict=True)):
        if p:
            prov_y[i] = v
            if i > 0 and not provisional[i - 1]:
                prov_y[i - 1] = values[i - 1]
    if any(provisional):
        data.append(
            {
                "type": "scatter",
                "x": list(months),
                "y": prov_y,
                "name": labels[1],
                "mode": "lines+markers",
                "line": {"color": PROVISIONAL, "width": 3, "dash": "dash"},
                "marker": {"symbol": "circle-open", "size": 9},
                "hovertemplate": "%{x}: %{y:.2f}% (" + labels[1] + ")<extra></extra>",
            }
        )
    # each target a dotted line across the chart, named at its left end
    shapes = [
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "yref": "y",
            "y0": percent,
            "y1": percent,
            "line": {"color": TARGET, "dash": "dot"},
        }
        for _label, percent in targets
    ]
    annotations = [
        {
            "xref": "paper",
            "x": 0,
            "xanchor": "left",
            "yref": "y",
            "y": percent,
            "yanchor": "bottom",
            "text": f"{label}: {percent:g}%",
            "showarrow": False,
        }
        for label, percent in targets
    ]
    layout = _layout(
        height=300,
        left=50,
        showlegend=True,
        legend={"orientation": "h", "y": -0.2},
        xaxis={"type": "category"},
        yaxis={"title": {"text": axis}, "ticksuffix": "%", "rangemode": "tozero"},
        shapes=shapes,
        annotations=annotations,
    )
    return Chart(
        key, title, _figure(data, layout), headers, rows, [], note, filename=f"cakupan-{key}"
    )


def split(
    key: str,
    title: str,
    *,
    labels: Sequence[str],
    values: Sequence[int],
    headers: list[str],
    rows: list[list],
    note: str,
) -> Chart:
    """The participants by kind: one horizontal bar each, counts."""
    bar = {
        "type": "bar",
        "orientation": "h",
        "y": list(labels),
        "x": list(values),
        "text": [f"{v:,}".replace(",", ".") for v in values],
        "textposition": "auto",
        "marker": {"color": BRAND},
        "hovertemplate": "%{y}: %{text}<extra></extra>",
    }
    layout = _layout(
        height=max(160, 34 * len(labels) + 60),
        left=200,
        yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
        xaxis={"rangemode": "tozero"},
    )
    return Chart(
        key, title, _figure([bar], layout), headers, rows, [], note, filename=f"cakupan-{key}"
    )


def lines(
    key: str,
    title: str,
    *,
    months: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    provisional: Sequence[bool],
    axis: str,
    headers: list[str],
    rows: list[list],
    note: str,
) -> Chart:
    """One line per series month by month; a provisional month's marker is hollow."""
    symbols = ["circle-open" if p else "circle" for p in provisional]
    data = [
        {
            "type": "scatter",
            "x": list(months),
            "y": list(values),
            "name": name,
            "mode": "lines+markers",
            "marker": {"symbol": symbols, "size": 9},
            "hovertemplate": "%{x}: %{y}<extra>" + name + "</extra>",
        }
        for name, values in series
    ]
    layout = _layout(
        height=300,
        left=50,
        showlegend=True,
        legend={"orientation": "h", "y": -0.2},
        xaxis={"type": "category"},
        yaxis={"title": {"text": axis}, "rangemode": "tozero"},
    )
    return Chart(
        key, title, _figure(data, layout), headers, rows, [], note, filename=f"cakupan-{key}"
    )
