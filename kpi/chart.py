"""The digest chart: the three KPIs month by month (releases) and the domain split, as PNG.

Uses matplotlib's object API on an Agg canvas (no pyplot, no global backend switch) and the
Noto Sans TC font shipped by the pylopdf-fonts-zh-tw wheel (SIL Open Font License 1.1), so
zh-TW labels render as glyphs, never as empty boxes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from kpi.anonymise import SUPPRESSED, Published

FONT_PACKAGE = "pylopdf_fonts_zh_tw"
FONT_FILE = "NotoSansTC-Regular.otf"
SIZE_INCHES = (10.0, 4.5)
DPI = 100
COLOURS = {"participation": "#1b7837", "utilization": "#2166ac", "feedback": "#b2182b"}
LABELS: dict[str, dict[str, str]] = {
    "zh-TW": {
        "trend": "三大 KPI 每月趨勢（已發布月份）",
        "participation": "參與率",
        "utilization": "使用率",
        "feedback": "回饋率",
        "percent": "百分比（%）",
        "month": "月份",
        "domains": "各服務領域諮詢場次（計畫年度累計）",
        "sessions": "場次",
        "suppressed": "人數過少，不予顯示",
        "gap": "空白：人數未達最低門檻或尚無資料",
        "psychology": "心理",
        "legal": "法律",
        "finance": "財務",
        "nutrition": "營養",
        "other": "其他",
    },
    "en": {
        "trend": "The three KPIs, released month by month",
        "participation": "Participation",
        "utilization": "Utilization",
        "feedback": "Feedback rate",
        "percent": "Percent",
        "month": "Month",
        "domains": "Sessions by domain (plan year to date)",
        "sessions": "Sessions",
        "suppressed": "too few to show",
        "gap": "Gaps: group under the minimum size, or no data yet",
        "psychology": "Psychology",
        "legal": "Legal",
        "finance": "Finance",
        "nutrition": "Nutrition",
        "other": "Other",
    },
}


@dataclass(frozen=True)
class TrendPoint:
    """One released month's KPI rates (fractions, SUPPRESSED or None)."""

    start: date
    participation: Published
    utilization: Published
    feedback: Published


@cache
def font_name() -> str:
    """Register the bundled Noto Sans TC with matplotlib once and return its family name."""
    path = resources.files(FONT_PACKAGE) / FONT_FILE
    with resources.as_file(path) as file:
        font_manager.fontManager.addfont(str(file))
        return font_manager.FontProperties(fname=str(file)).get_name()


def labels(locale: str) -> dict[str, str]:
    """The chart's labels in a locale (zh-TW when unknown)."""
    return LABELS.get(locale, LABELS["zh-TW"])


def _percent(value: Published) -> float:
    return float(value) * 100 if isinstance(value, int | float) else math.nan


def _trend(axes: Any, points: Sequence[TrendPoint], text: Mapping[str, str]) -> None:
    x = list(range(len(points)))
    for kpi, colour in COLOURS.items():
        y = [_percent(getattr(p, kpi)) for p in points]
        axes.plot(x, y, marker="o", color=colour, label=text[kpi])
    axes.set_xticks(x, [f"{p.start.year}/{p.start.month}" for p in points])
    axes.set_ylim(0, max([5.0, *(v for v in _all_values(points) if not math.isnan(v))]) * 1.35)
    axes.set_title(text["trend"])
    axes.set_xlabel(text["month"])
    axes.set_ylabel(text["percent"])
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", ncol=3, fontsize=9)


def _all_values(points: Sequence[TrendPoint]) -> list[float]:
    return [_percent(getattr(p, kpi)) for p in points for kpi in COLOURS]


def _domains(axes: Any, domains: Mapping[str, Published], text: Mapping[str, str]) -> None:
    names = list(domains)
    values = [float(v) if isinstance(v, int | float) else 0.0 for v in domains.values()]
    rows = list(range(len(names)))
    axes.barh(rows, values, color="#5e3c99")
    axes.set_yticks(rows, [text.get(n, n) for n in names])
    axes.invert_yaxis()
    top = max([1.0, *values])
    for row, value in zip(rows, domains.values(), strict=True):
        shown = text["suppressed"] if value == SUPPRESSED else f"{value}"
        axes.text(float(value) if value != SUPPRESSED else 0, row, f" {shown}", va="center")
    axes.set_xlim(0, top * 1.45)
    axes.set_title(text["domains"])
    axes.set_xlabel(text["sessions"])


def render(
    points: Sequence[TrendPoint], domains: Mapping[str, Published], *, locale: str = "zh-TW"
) -> bytes:
    """The digest chart as PNG bytes, labelled in the locale."""
    text = labels(locale)
    style = {"font.family": [font_name()], "axes.unicode_minus": False}
    with matplotlib.rc_context(style):
        figure = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        left, right = figure.subplots(1, 2, width_ratios=[3, 2])
        _trend(left, points, text)
        _domains(right, domains, text)
        figure.supxlabel(text["gap"], fontsize=8, color="#555555")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
