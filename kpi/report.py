"""Digest and plan-year report content: message keys with parameters, CSV, XLSX and the chart.

Everything here is built from the published (anonymised) structures of kpi.anonymise, so it
holds only numbers, labels and suppression markers. Text is not rendered here: the digest is a
list of message keys (locales/*/kpi.ftl) with parameters, rendered by the caller.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession

from kpi import chart, metrics
from kpi import snapshot as snapshots
from kpi.anonymise import SUPPRESSED, Published, publish, publish_months, thresholds
from kpi.metrics import Period
from storage.models import Organisation

SHOWN, HIDDEN, NONE = "shown", "suppressed", "none"
TREND_WEEKS = 8


@dataclass(frozen=True)
class Line:
    """One digest line: a message key and its parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WeeklyDigest:
    """The published figures a weekly digest is made of."""

    organisation: str
    week: Period
    figures: dict[str, Any]
    plan_year: dict[str, Any]
    trend: list[chart.TrendPoint]

    def lines(self) -> list[Line]:
        """The summary as message keys and parameters."""
        return digest_lines(self)

    def csv(self, locale: str = "zh-TW") -> bytes:
        """The week, the week before, the change and the plan year to date, as CSV."""
        return to_csv([digest_table(self, locale)])

    def chart(self, locale: str = "zh-TW") -> bytes:
        """The PNG chart: KPI trends and the plan year's domain split."""
        domains = {d: v["sessions"] for d, v in self.plan_year["sessions"]["by_domain"].items()}
        return chart.render(self.trend, domains, locale=locale)


@dataclass(frozen=True)
class PlanYearReport:
    """The published figures of a plan year (to date) and of each of its months."""

    organisation: str
    period: Period
    minutes_per_year: int
    domains: list[str]
    year: dict[str, Any]
    months: list[dict[str, Any]]

    def csv(self, locale: str = "zh-TW") -> bytes:
        """The report's tables, one after another, as CSV (UTF-8 with BOM for Excel)."""
        return to_csv(report_tables(self, locale))

    def xlsx(self, locale: str = "zh-TW") -> bytes:
        """The report as an XLSX workbook, one sheet per table."""
        return to_xlsx(report_tables(self, locale))


# ---- collecting --------------------------------------------------------------------------


def _trend_point(figures: Mapping[str, Any]) -> chart.TrendPoint:
    return chart.TrendPoint(
        week_start=date.fromisoformat(figures["period"]["start"]),
        participation=figures["participation"]["rate"],
        utilization=figures["utilization"]["rate"],
        feedback=figures["feedback"]["rate"],
    )


async def _week_figures(
    session: AsyncSession, org: Organisation, week: Period, stored: Mapping[date, Any]
) -> dict[str, Any]:
    if week.start in stored:
        return dict(stored[week.start])
    counts = await metrics.period_counts(session, org, week)
    return publish(counts, thresholds(org))


async def _trend(
    session: AsyncSession, org: Organisation, week: Period, weeks: int
) -> list[chart.TrendPoint]:
    periods = [
        Period(week.start - timedelta(days=7 * i), week.end - timedelta(days=7 * i))
        for i in range(weeks)
    ]
    rows = await snapshots.read(
        session, org.id, start=periods[-1].end, end=week.end + timedelta(days=7)
    )
    stored = {
        date.fromisoformat(s.metrics["week"]["period"]["start"]): s.metrics["week"] for s in rows
    }
    figures = [await _week_figures(session, org, p, stored) for p in reversed(periods)]
    return [_trend_point(f) for f in figures]


async def weekly_digest(
    session: AsyncSession, org: Organisation, *, today: date, weeks: int = TREND_WEEKS
) -> WeeklyDigest:
    """The digest of the last complete week before `today` (weeks end before digest_weekday)."""
    week = metrics.last_complete_week(org, today)
    t = thresholds(org)
    current = await metrics.period_counts(session, org, week)
    previous = await metrics.period_counts(session, org, week.previous())
    year = await metrics.period_counts(session, org, metrics.plan_year_to_date(org, week.end))
    return WeeklyDigest(
        organisation=org.name,
        week=week,
        figures=publish(current, t, previous=previous),
        plan_year=publish(year, t),
        trend=await _trend(session, org, week, weeks),
    )


async def plan_year_report(
    session: AsyncSession, org: Organisation, *, on: date
) -> PlanYearReport:
    """The plan year containing `on`, up to and including `on`, and its months."""
    months = metrics.plan_year_months(org, on)
    end = min(months[-1].end, on + timedelta(days=1))
    months = [Period(m.start, min(m.end, end)) for m in months if m.start < end]
    t = thresholds(org)
    year = await metrics.period_counts(session, org, Period(months[0].start, end))
    monthly = [await metrics.period_counts(session, org, m) for m in months]
    return PlanYearReport(
        organisation=org.name,
        period=Period(months[0].start, end),
        minutes_per_year=org.minutes_per_year,
        domains=[d.value for d in org.domains],
        year=publish(year, t),
        months=publish_months(monthly, t),
    )


# ---- digest lines ------------------------------------------------------------------------


def _state(value: Published) -> str:
    if value == SUPPRESSED:
        return HIDDEN
    return NONE if value is None else SHOWN


def _pct(value: Published) -> float:
    return round(float(value) * 100, 1) if isinstance(value, int | float) else 0.0


def _num(value: Published) -> int | float:
    return value if isinstance(value, int | float) else 0


def _hours(minutes: Published) -> float:
    return round(float(minutes) / 60, 1) if isinstance(minutes, int | float) else 0.0


def _rate_line(key: str, block: Mapping[str, Published], **extra: Any) -> Line:
    return Line(
        key,
        {
            "state": _state(block["rate"]),
            "percent": _pct(block["rate"]),
            "count": _num(block["count"]),
            **extra,
        },
    )


def _change_line(key: str, change: Published | Mapping[str, Any], *, rate: bool) -> Line:
    if not isinstance(change, Mapping):
        return Line(key, {"state": _state(change), "difference": 0, "multiple": 0})
    difference = round(change["difference"] * 100, 1) if rate else change["difference"]
    multiple = change["multiple"]
    state = SHOWN if multiple is not None else NONE
    return Line(key, {"state": state, "difference": difference, "multiple": multiple or 0})


def digest_lines(digest: WeeklyDigest) -> list[Line]:
    """The weekly summary: one line per KPI, changes against the previous week, notes."""
    f, y, c = digest.figures, digest.plan_year, digest.figures["change"]
    fb = f["feedback"]
    sessions = f["sessions"]["total"]
    return [
        Line(
            "kpi-digest-title",
            {
                "organisation": digest.organisation,
                "first_day": digest.week.start,
                "last_day": digest.week.end - timedelta(days=1),
            },
        ),
        _rate_line("kpi-participation", f["participation"], headcount=_num(f["headcount"])),
        _change_line("kpi-change-participation", c["participation"], rate=True),
        _rate_line("kpi-utilization", f["utilization"]),
        _change_line("kpi-change-utilization", c["utilization"], rate=True),
        Line("kpi-sessions", {"state": _state(sessions), "sessions": _num(sessions)}),
        _change_line("kpi-change-sessions", c["sessions"], rate=False),
        _rate_line(
            "kpi-feedback",
            {"rate": fb["rate"], "count": fb["answered"]},
            prompts=_num(fb["prompts"]),
        ),
        Line(
            "kpi-satisfaction",
            {
                "state": _state(fb["satisfaction_mean"]),
                "mean": float(_num(fb["satisfaction_mean"])),
            },
        ),
        Line(
            "kpi-satisfied",
            {"state": _state(fb["satisfied_share"]), "percent": _pct(fb["satisfied_share"])},
        ),
        Line(
            "kpi-resolved",
            {"state": _state(fb["resolved_share"]), "percent": _pct(fb["resolved_share"])},
        ),
        Line(
            "kpi-again", {"state": _state(fb["again_share"]), "percent": _pct(fb["again_share"])}
        ),
        Line(
            "kpi-hours-year",
            {
                "state": _state(y["hours"]["rate"]),
                "percent": _pct(y["hours"]["rate"]),
                "used": _hours(y["hours"]["used_minutes"]),
                "allotted": _hours(y["hours"]["allotted_minutes"]),
            },
        ),
        Line(
            "kpi-crisis",
            {"state": _state(f["crisis_referrals"]), "count": _num(f["crisis_referrals"])},
        ),
        Line(
            "kpi-suppression-note",
            {"people": f["min_group"]["people"], "usage": f["min_group"]["usage"]},
        ),
    ]


# ---- tables ------------------------------------------------------------------------------

Table = tuple[str, list[list[Any]]]

TEXT: dict[str, dict[str, str]] = {
    "zh-TW": {
        "suppressed": "不予顯示",
        "none": "—",
        "metric": "指標",
        "week": "本週",
        "difference": "變化",
        "multiple": "成長倍數",
        "plan_year": "計畫年度累計",
        "digest": "每週 KPI 摘要",
        "summary": "員工協助方案年度成果彙整表",
        "monthly": "各月統計",
        "domains": "服務領域統計",
        "item": "項目",
        "value": "數值",
        "note": "說明",
        "month": "月份（起始日）",
        "domain": "服務領域",
        "share": "場次占比（%）",
        "footnote": (
            "少於最低人數門檻（人數類 {people} 人、諮詢使用類 {usage} 人）之數值不予顯示；"
            "所有數據皆經去識別化。"
        ),
    },
    "en": {
        "suppressed": "suppressed",
        "none": "n/a",
        "metric": "Metric",
        "week": "This week",
        "difference": "Change",
        "multiple": "Growth multiple",
        "plan_year": "Plan year to date",
        "digest": "Weekly KPI digest",
        "summary": "EAP year-end summary table",
        "monthly": "By month",
        "domains": "By service domain",
        "item": "Item",
        "value": "Value",
        "note": "Note",
        "month": "Month (starting)",
        "domain": "Domain",
        "share": "Share of sessions (%)",
        "footnote": (
            "Figures under the minimum group size ({people} for headcounts, {usage} for "
            "counseling use) are suppressed; all data are de-identified."
        ),
    },
}

METRICS: dict[str, dict[str, str]] = {
    "zh-TW": {
        "headcount": "在職員工數（人）",
        "participants": "參與人數（人）",
        "participation": "參與率（%）",
        "users": "使用人數（人）",
        "utilization": "使用率（%）",
        "repeat_use": "重複使用率（%）",
        "sessions": "諮詢場次（場）",
        "used_hours": "已使用時數（小時）",
        "allotted_hours": "年度可用時數（小時）",
        "hours_share": "時數使用率（%）",
        "no_show": "未出席率（%）",
        "late_cancel": "逾時取消率（%）",
        "prompts": "回饋邀請數（份）",
        "answered": "回饋份數（份）",
        "feedback_rate": "回饋率（%）",
        "satisfied_share": "滿意（4–5 分）比例（%）",
        "satisfaction_mean": "平均滿意度（1–5）",
        "resolved_share": "問題已解決比例（%）",
        "again_share": "願意再使用比例（%）",
        "crisis": "危機轉介次數（次）",
        "hours_per_person": "每人年度可用時數（小時）",
        "domains_offered": "提供服務領域",
        "section_mechanism": "一、機制建置",
        "section_promotion": "二、宣導推廣（參與率）",
        "section_service": "三、服務提供（使用率）",
        "section_feedback": "四、檢討回饋（回饋率）",
        "section_crisis": "五、危機轉介",
        "domain_sessions": "{domain}諮詢場次（場）",
        "domain_hours": "{domain}使用時數（小時）",
    },
    "en": {
        "headcount": "Active employees",
        "participants": "Participants",
        "participation": "Participation (%)",
        "users": "Users",
        "utilization": "Utilization (%)",
        "repeat_use": "Repeat use (%)",
        "sessions": "Sessions held",
        "used_hours": "Hours used",
        "allotted_hours": "Hours allotted for the year",
        "hours_share": "Hours used of allotted (%)",
        "no_show": "No-show rate (%)",
        "late_cancel": "Late-cancel rate (%)",
        "prompts": "Feedback prompts",
        "answered": "Feedback answered",
        "feedback_rate": "Feedback rate (%)",
        "satisfied_share": "Satisfied, 4-5 (%)",
        "satisfaction_mean": "Mean satisfaction (1-5)",
        "resolved_share": "Problem resolved (%)",
        "again_share": "Would use again (%)",
        "crisis": "Crisis referrals",
        "hours_per_person": "Hours per employee per year",
        "domains_offered": "Domains offered",
        "section_mechanism": "1. Mechanism",
        "section_promotion": "2. Promotion (participation)",
        "section_service": "3. Services (utilization)",
        "section_feedback": "4. Review and feedback",
        "section_crisis": "5. Crisis referrals",
        "domain_sessions": "{domain} sessions",
        "domain_hours": "{domain} hours used",
    },
}


def _text(locale: str) -> dict[str, str]:
    return TEXT.get(locale, TEXT["zh-TW"])


def _metric(locale: str) -> dict[str, str]:
    return METRICS.get(locale, METRICS["zh-TW"])


def _out(value: Published, locale: str, *, kind: str = "count") -> Any:
    """A published value as a table cell: percent, hours, count, or a marker."""
    if value == SUPPRESSED:
        return _text(locale)["suppressed"]
    if value is None:
        return _text(locale)["none"]
    if kind == "rate":
        return round(float(value) * 100, 1)
    if kind == "hours":
        return round(float(value) / 60, 1)
    return value


# Each metric: (label id, path in a published period, kind).
DIGEST_METRICS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("headcount", ("headcount",), "count"),
    ("participants", ("participation", "count"), "count"),
    ("participation", ("participation", "rate"), "rate"),
    ("users", ("utilization", "count"), "count"),
    ("utilization", ("utilization", "rate"), "rate"),
    ("repeat_use", ("repeat_use", "rate"), "rate"),
    ("sessions", ("sessions", "total"), "count"),
    ("used_hours", ("hours", "used_minutes"), "hours"),
    ("allotted_hours", ("hours", "allotted_minutes"), "hours"),
    ("hours_share", ("hours", "rate"), "rate"),
    ("no_show", ("no_show", "rate"), "rate"),
    ("late_cancel", ("late_cancel", "rate"), "rate"),
    ("prompts", ("feedback", "prompts"), "count"),
    ("answered", ("feedback", "answered"), "count"),
    ("feedback_rate", ("feedback", "rate"), "rate"),
    ("satisfied_share", ("feedback", "satisfied_share"), "rate"),
    ("satisfaction_mean", ("feedback", "satisfaction_mean"), "count"),
    ("resolved_share", ("feedback", "resolved_share"), "rate"),
    ("again_share", ("feedback", "again_share"), "rate"),
    ("crisis", ("crisis_referrals",), "count"),
)
CHANGES = {
    ("participation", "count"): "participants",
    ("participation", "rate"): "participation",
    ("utilization", "count"): "users",
    ("utilization", "rate"): "utilization",
    ("sessions", "total"): "sessions",
    ("feedback", "rate"): "feedback_rate",
}


def _dig(tree: Mapping[str, Any], path: Sequence[str]) -> Any:
    for part in path:
        tree = tree[part]
    return tree


def _change_cells(
    figures: Mapping[str, Any], path: tuple[str, ...], kind: str, locale: str
) -> list[Any]:
    name = CHANGES.get(path)
    if name is None:
        return ["", ""]
    change = figures["change"][name]
    if not isinstance(change, Mapping):
        return [_out(change, locale), _out(change, locale)]
    return [_out(change["difference"], locale, kind=kind), _out(change["multiple"], locale)]


def digest_table(digest: WeeklyDigest, locale: str) -> Table:
    """The digest's CSV table: this week, the change, the plan year to date."""
    text, names = _text(locale), _metric(locale)
    header = [
        text["metric"],
        text["week"],
        text["difference"],
        text["multiple"],
        text["plan_year"],
    ]
    rows = [header]
    for label, path, kind in DIGEST_METRICS:
        week = _out(_dig(digest.figures, path), locale, kind=kind)
        year = _out(_dig(digest.plan_year, path), locale, kind=kind)
        rows.append([names[label], week, *_change_cells(digest.figures, path, kind, locale), year])
    for domain, cells in _domain_rows(digest.figures, digest.plan_year, locale):
        rows.append([domain, *cells])
    return text["digest"], rows


def _domain_label(domain: str, locale: str) -> str:
    return chart.labels(locale).get(domain, domain)


def _domain_rows(
    week: Mapping[str, Any], year: Mapping[str, Any], locale: str
) -> list[tuple[str, list[Any]]]:
    names = _metric(locale)
    rows = []
    for domain, cell in year["sessions"]["by_domain"].items():
        this = week["sessions"]["by_domain"].get(domain, {"sessions": 0, "minutes": 0})
        label = _domain_label(domain, locale)
        rows.append(
            (
                names["domain_sessions"].format(domain=label),
                [_out(this["sessions"], locale), "", "", _out(cell["sessions"], locale)],
            )
        )
        rows.append(
            (
                names["domain_hours"].format(domain=label),
                [
                    _out(this["minutes"], locale, kind="hours"),
                    "",
                    "",
                    _out(cell["minutes"], locale, kind="hours"),
                ],
            )
        )
    return rows


# ---- plan-year report ----------------------------------------------------------------------


def _summary_rows(report: PlanYearReport, locale: str) -> list[list[Any]]:
    names, y = _metric(locale), report.year
    domains = (
        "、".join(_domain_label(d, locale) for d in report.domains)
        if locale == "zh-TW"
        else ", ".join(_domain_label(d, locale) for d in report.domains)
    )
    sections: list[tuple[str, list[tuple[str, Any]]]] = [
        (
            "section_mechanism",
            [
                ("headcount", _out(y["headcount"], locale)),
                ("hours_per_person", round(report.minutes_per_year / 60, 1)),
                ("allotted_hours", _out(y["hours"]["allotted_minutes"], locale, kind="hours")),
                ("domains_offered", domains),
            ],
        ),
        (
            "section_promotion",
            [
                ("participants", _out(y["participation"]["count"], locale)),
                ("participation", _out(y["participation"]["rate"], locale, kind="rate")),
            ],
        ),
        (
            "section_service",
            [
                ("users", _out(y["utilization"]["count"], locale)),
                ("utilization", _out(y["utilization"]["rate"], locale, kind="rate")),
                ("sessions", _out(y["sessions"]["total"], locale)),
                ("used_hours", _out(y["hours"]["used_minutes"], locale, kind="hours")),
                ("hours_share", _out(y["hours"]["rate"], locale, kind="rate")),
                ("repeat_use", _out(y["repeat_use"]["rate"], locale, kind="rate")),
                ("no_show", _out(y["no_show"]["rate"], locale, kind="rate")),
                ("late_cancel", _out(y["late_cancel"]["rate"], locale, kind="rate")),
            ],
        ),
        (
            "section_feedback",
            [
                ("prompts", _out(y["feedback"]["prompts"], locale)),
                ("answered", _out(y["feedback"]["answered"], locale)),
                ("feedback_rate", _out(y["feedback"]["rate"], locale, kind="rate")),
                ("satisfied_share", _out(y["feedback"]["satisfied_share"], locale, kind="rate")),
                ("satisfaction_mean", _out(y["feedback"]["satisfaction_mean"], locale)),
                ("resolved_share", _out(y["feedback"]["resolved_share"], locale, kind="rate")),
                ("again_share", _out(y["feedback"]["again_share"], locale, kind="rate")),
            ],
        ),
        ("section_crisis", [("crisis", _out(y["crisis_referrals"], locale))]),
    ]
    rows = []
    for section, items in sections:
        for index, (label, value) in enumerate(items):
            rows.append([names[section] if index == 0 else "", names[label], value, ""])
    return rows


def report_tables(report: PlanYearReport, locale: str = "zh-TW") -> list[Table]:
    """The plan-year report as tables laid out like the year-end summary forms (彙整表)."""
    text, names = _text(locale), _metric(locale)
    last = report.period.end - timedelta(days=1)
    span = f"{report.period.start.isoformat()} – {last.isoformat()}"
    title = f"{report.organisation} {text['summary']}（{span}）"
    footnote = text["footnote"].format(**report.year["min_group"])
    summary = [[title], [text["item"], text["metric"], text["value"], text["note"]]]
    summary += _summary_rows(report, locale)
    summary.append([footnote])
    monthly_header = [
        text["month"],
        names["participants"],
        names["participation"],
        names["users"],
        names["utilization"],
        names["sessions"],
        names["used_hours"],
        names["feedback_rate"],
        names["satisfaction_mean"],
    ]
    monthly = [monthly_header] + [_month_row(m, locale) for m in report.months] + [[footnote]]
    domain_header = [text["domain"], names["sessions"], text["share"], names["used_hours"]]
    domains = [domain_header]
    for domain, cell in report.year["sessions"]["by_domain"].items():
        domains.append(
            [
                _domain_label(domain, locale),
                _out(cell["sessions"], locale),
                _out(cell["share"], locale, kind="rate"),
                _out(cell["minutes"], locale, kind="hours"),
            ]
        )
    domains.append([footnote])
    return [(text["summary"], summary), (text["monthly"], monthly), (text["domains"], domains)]


def _month_row(month: Mapping[str, Any], locale: str) -> list[Any]:
    return [
        month["period"]["start"],
        _out(month["participation"]["count"], locale),
        _out(month["participation"]["rate"], locale, kind="rate"),
        _out(month["utilization"]["count"], locale),
        _out(month["utilization"]["rate"], locale, kind="rate"),
        _out(month["sessions"], locale),
        _out(month["used_minutes"], locale, kind="hours"),
        _out(month["feedback_rate"], locale, kind="rate"),
        _out(month["satisfaction_mean"], locale),
    ]


def to_csv(tables: Sequence[Table]) -> bytes:
    """Tables one after another, a blank line between, as UTF-8 CSV with a BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for index, (title, rows) in enumerate(tables):
        if index:
            writer.writerow([])
        writer.writerow([title])
        writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fit_columns(sheet: Any, rows: Sequence[Sequence[Any]]) -> None:
    for index in range(max((len(r) for r in rows), default=0)):
        width = max(_display_width(str(r[index])) for r in rows if index < len(r))
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(60, max(10, width + 2))


def _sheet(book: Workbook, title: str, rows: Sequence[Sequence[Any]]) -> None:
    sheet = book.create_sheet(title[:31])
    for row in rows:
        sheet.append(list(row))
    header = 2 if len(rows[0]) == 1 else 1
    for cell in sheet[header]:
        cell.font = Font(bold=True)
    if header == 2:
        sheet["A1"].font = Font(bold=True, size=13)
    _fit_columns(sheet, [r for r in rows if len(r) > 1])


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """Tables as an XLSX workbook, one sheet each, header row in bold."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in tables:
        _sheet(book, title, rows)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
