"""Digest and plan-year report content: message keys with parameters, CSV, XLSX and the chart.

Everything here is built from stored releases (kpi.released: protected, published figures
of closed months and their 95 % errors), never from live counts, so it holds only numbers,
labels and suppression markers, and every figure comes with its error. Text is not rendered
here: the digest is a list of message keys (locales/*/kpi.ftl) with parameters.
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

from kpi import chart, released
from kpi.anonymise import SUPPRESSED, Published
from kpi.metrics import Period
from kpi.released import Errors, Figures, Latest
from storage.models import Organisation

SHOWN, HIDDEN, NONE = "shown", "suppressed", "none"
MONTH, YEAR = "month", "year"
TREND_MONTHS = 12


@dataclass(frozen=True)
class Line:
    """One digest line: a message key and its parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Digest:
    """Released figures of one period (a month, or the plan year to a month's end) for HR."""

    organisation: str
    period: Period
    figures: dict[str, Any]
    errors: Errors
    change_errors: Errors
    plan_year: dict[str, Any]
    year_errors: Errors
    trend: list[chart.TrendPoint]
    released_on: date
    next_release: date

    def lines(self) -> list[Line]:
        """The summary as message keys and parameters."""
        return digest_lines(self)

    def csv(self, locale: str = "zh-TW") -> bytes:
        """The period, its change, the plan year to its end, each with its error, as CSV."""
        return to_csv([digest_table(self, locale)])

    def chart(self, locale: str = "zh-TW") -> bytes:
        """The PNG chart: released monthly KPI trends and the plan year's domain split."""
        domains = {d: v["sessions"] for d, v in self.plan_year["sessions"]["by_domain"].items()}
        return chart.render(self.trend, domains, locale=locale)


@dataclass(frozen=True)
class PlanYearReport:
    """The released figures of a plan year (to its last released month) and of each month."""

    organisation: str
    period: Period
    minutes_per_year: int
    domains: list[str]
    year: dict[str, Any]
    year_errors: Errors
    months: list[Figures]

    def csv(self, locale: str = "zh-TW") -> bytes:
        """The report's tables, one after another, as CSV (UTF-8 with BOM for Excel)."""
        return to_csv(report_tables(self, locale))

    def xlsx(self, locale: str = "zh-TW") -> bytes:
        """The report as an XLSX workbook, one sheet per table."""
        return to_xlsx(report_tables(self, locale))


# ---- collecting (stored releases only, never live counts) -----------------------------------


def _trend_point(figures: Mapping[str, Any]) -> chart.TrendPoint:
    return chart.TrendPoint(
        start=date.fromisoformat(figures["period"]["start"]),
        participation=figures["participation"]["rate"],
        utilization=figures["utilization"]["rate"],
        feedback=figures["feedback"]["rate"],
    )


def digest_of(org: Organisation, found: Latest, *, today: date, span: str = MONTH) -> Digest:
    """The digest of the released month (with its change) or of the plan year to its end."""
    shown = found.month if span == MONTH else found.plan_year
    return Digest(
        organisation=org.name,
        period=shown.period,
        figures=shown.published,
        errors=shown.errors,
        change_errors=found.change_errors if span == MONTH else {},
        plan_year=found.plan_year.published,
        year_errors=found.plan_year.errors,
        trend=[_trend_point(m.published) for m in found.trend],
        released_on=shown.released_on,
        next_release=released.next_release(org, today),
    )


async def released_digest(
    session: AsyncSession,
    org: Organisation,
    *,
    today: date,
    span: str = MONTH,
    ending_by: date | None = None,
    trend: int = TREND_MONTHS,
) -> Digest | None:
    """The latest released month (or its plan year) as a digest; None before the first release."""
    found = await released.latest(session, org, ending_by=ending_by, trend=trend)
    return digest_of(org, found, today=today, span=span) if found is not None else None


async def plan_year_report(
    session: AsyncSession, org: Organisation, *, on: date
) -> PlanYearReport | None:
    """The plan year containing `on`, from its month releases up to `on`; None if none yet."""
    found = await released.plan_year_months(session, org, on=on)
    if found is None:
        return None
    year, months = found
    return PlanYearReport(
        organisation=org.name,
        period=year.period,
        minutes_per_year=org.minutes_per_year,
        domains=[d.value for d in org.domains],
        year=year.published,
        year_errors=year.errors,
        months=months,
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


def _err(value: float | None) -> float:
    return float(value) if value is not None else 0.0


def _rate_line(
    key: str,
    block: Mapping[str, Published],
    error: float | None,
    count_error: float | None,
    **extra: Any,
) -> Line:
    return Line(
        key,
        {
            "state": _state(block["rate"]),
            "percent": _pct(block["rate"]),
            "error": _err(error),
            "count": _num(block["count"]),
            "count_error": _err(count_error),
            **extra,
        },
    )


def _share_line(key: str, value: Published, error: float | None) -> Line:
    return Line(key, {"state": _state(value), "percent": _pct(value), "error": _err(error)})


def _change_line(
    key: str, change: Published | Mapping[str, Any], error: float | None, *, rate: bool
) -> Line:
    if not isinstance(change, Mapping):
        return Line(key, {"state": _state(change), "difference": 0, "multiple": 0, "error": 0.0})
    difference = round(change["difference"] * 100, 1) if rate else change["difference"]
    multiple = change["multiple"]
    state = SHOWN if multiple is not None and error is not None else NONE
    return Line(
        key,
        {
            "state": state,
            "difference": difference,
            "multiple": multiple or 0,
            "error": _err(error),
        },
    )


def _changes(digest: Digest) -> dict[str, Line]:
    c, e = digest.figures.get("change"), digest.change_errors
    if c is None:
        return {}
    return {
        "participation": _change_line(
            "kpi-change-participation", c["participation"], e["participation"], rate=True
        ),
        "utilization": _change_line(
            "kpi-change-utilization", c["utilization"], e["utilization"], rate=True
        ),
        "sessions": _change_line("kpi-change-sessions", c["sessions"], e["sessions"], rate=False),
    }


def digest_lines(digest: Digest) -> list[Line]:
    """The summary: one line per figure with its error, changes against the month before, notes."""
    f, e, y, ye = digest.figures, digest.errors, digest.plan_year, digest.year_errors
    fb = f["feedback"]
    sessions = f["sessions"]["total"]
    changes = _changes(digest)
    lines: list[Line | None] = [
        Line(
            "kpi-digest-title",
            {
                "organisation": digest.organisation,
                "first_day": digest.period.start,
                "last_day": digest.period.end - timedelta(days=1),
            },
        ),
        _rate_line(
            "kpi-participation",
            f["participation"],
            e["participation"],
            e["participants"],
            headcount=_num(f["headcount"]),
        ),
        changes.get("participation"),
        _rate_line("kpi-utilization", f["utilization"], e["utilization"], e["users"]),
        changes.get("utilization"),
        Line(
            "kpi-sessions",
            {"state": _state(sessions), "sessions": _num(sessions), "error": _err(e["sessions"])},
        ),
        changes.get("sessions"),
        _rate_line(
            "kpi-feedback",
            {"rate": fb["rate"], "count": fb["answered"]},
            e["feedback_rate"],
            e["answered"],
            prompts=_num(fb["prompts"]),
        ),
        Line(
            "kpi-satisfaction",
            {
                "state": _state(fb["satisfaction_mean"]),
                "mean": float(_num(fb["satisfaction_mean"])),
                "error": _err(e["satisfaction_mean"]),
            },
        ),
        _share_line("kpi-satisfied", fb["satisfied_share"], e["satisfied_share"]),
        _share_line("kpi-resolved", fb["resolved_share"], e["resolved_share"]),
        _share_line("kpi-again", fb["again_share"], e["again_share"]),
        Line(
            "kpi-hours-year",
            {
                "state": _state(y["hours"]["rate"]),
                "percent": _pct(y["hours"]["rate"]),
                "error": _err(ye["hours_share"]),
                "used": _hours(y["hours"]["used_minutes"]),
                "used_error": _err(ye["used_hours"]),
                "allotted": _hours(y["hours"]["allotted_minutes"]),
            },
        ),
        Line(
            "kpi-crisis",
            {
                "state": _state(f["crisis_referrals"]),
                "count": _num(f["crisis_referrals"]),
                "error": _err(e["crisis"]),
            },
        ),
        Line(
            "kpi-suppression-note",
            {"people": f["min_group"]["people"], "usage": f["min_group"]["usage"]},
        ),
        Line(
            "kpi-release-note",
            {"released": digest.released_on, "next_release": digest.next_release},
        ),
    ]
    return [line for line in lines if line is not None]


# ---- tables ------------------------------------------------------------------------------

Table = tuple[str, list[list[Any]]]

TEXT: dict[str, dict[str, str]] = {
    "zh-TW": {
        "suppressed": "不予顯示",
        "none": "—",
        "metric": "指標",
        "period": "本期",
        "error": "±（95%）",
        "difference": "變化",
        "multiple": "成長倍數",
        "plan_year": "計畫年度累計（至本期末）",
        "digest": "KPI 摘要（已發布數據）",
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
            "所有數據皆經去識別化，並加入隨機干擾保護個人隱私；「±」為 95% 誤差範圍"
            "（比率為百分點）。數據每月發布，於該月結束 14 天後發布。"
        ),
    },
    "en": {
        "suppressed": "suppressed",
        "none": "n/a",
        "metric": "Metric",
        "period": "This period",
        "error": "± (95%)",
        "difference": "Change",
        "multiple": "Growth multiple",
        "plan_year": "Plan year to the period's end",
        "digest": "KPI digest (released figures)",
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
            "counseling use) are suppressed; all data are de-identified and carry random noise "
            "that protects each person; ± is the 95% margin of error (percentage points for "
            "rates). Figures are released monthly, 14 days after the month ends."
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


def _error_cell(value: Published, error: float | None) -> Any:
    """A figure's error cell: blank where the figure is hidden, missing or exact."""
    if value == SUPPRESSED or value is None or error is None:
        return ""
    return error


def _change_cells(digest: Digest, path: tuple[str, ...], kind: str, locale: str) -> list[Any]:
    name = CHANGES.get(path)
    change = digest.figures.get("change")
    if name is None or change is None:
        return ["", "", ""]
    cell = change[name]
    if not isinstance(cell, Mapping):
        return [_out(cell, locale), "", _out(cell, locale)]
    difference = _out(cell["difference"], locale, kind=kind)
    error = _error_cell(cell["difference"], digest.change_errors.get(name))
    return [difference, error, _out(cell["multiple"], locale)]


def digest_table(digest: Digest, locale: str) -> Table:
    """The digest's CSV table: the period, the change, the plan year, each with its error."""
    text, names = _text(locale), _metric(locale)
    header = [
        text["metric"],
        text["period"],
        text["error"],
        text["difference"],
        text["error"],
        text["multiple"],
        text["plan_year"],
        text["error"],
    ]
    rows = [header]
    for label, path, kind in DIGEST_METRICS:
        shown, year = _dig(digest.figures, path), _dig(digest.plan_year, path)
        rows.append(
            [
                names[label],
                _out(shown, locale, kind=kind),
                _error_cell(shown, digest.errors.get(label)),
                *_change_cells(digest, path, kind, locale),
                _out(year, locale, kind=kind),
                _error_cell(year, digest.year_errors.get(label)),
            ]
        )
    rows.extend(_domain_rows(digest, locale))
    return text["digest"], rows


def _domain_label(domain: str, locale: str) -> str:
    return chart.labels(locale).get(domain, domain)


def _domain_rows(digest: Digest, locale: str) -> list[list[Any]]:
    names, e, ye = _metric(locale), digest.errors, digest.year_errors
    rows = []
    for domain, cell in digest.plan_year["sessions"]["by_domain"].items():
        this = digest.figures["sessions"]["by_domain"].get(domain, {"sessions": 0, "minutes": 0})
        label = _domain_label(domain, locale)
        for name, key, kind, error in (
            ("domain_sessions", "sessions", "count", "domain_sessions"),
            ("domain_hours", "minutes", "hours", "domain_hours"),
        ):
            rows.append(
                [
                    names[name].format(domain=label),
                    _out(this[key], locale, kind=kind),
                    _error_cell(this[key], e.get(error)),
                    "",
                    "",
                    "",
                    _out(cell[key], locale, kind=kind),
                    _error_cell(cell[key], ye.get(error)),
                ]
            )
    return rows


# ---- plan-year report ----------------------------------------------------------------------


SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("section_mechanism", ("headcount", "hours_per_person", "allotted_hours", "domains_offered")),
    ("section_promotion", ("participants", "participation")),
    (
        "section_service",
        (
            "users",
            "utilization",
            "sessions",
            "used_hours",
            "hours_share",
            "repeat_use",
            "no_show",
            "late_cancel",
        ),
    ),
    (
        "section_feedback",
        (
            "prompts",
            "answered",
            "feedback_rate",
            "satisfied_share",
            "satisfaction_mean",
            "resolved_share",
            "again_share",
        ),
    ),
    ("section_crisis", ("crisis",)),
)
PATHS = {label: (path, kind) for label, path, kind in DIGEST_METRICS}


def _summary_cells(report: PlanYearReport, label: str, locale: str) -> list[Any]:
    """A summary row's value and error."""
    if label == "hours_per_person":
        return [round(report.minutes_per_year / 60, 1), ""]
    if label == "domains_offered":
        joint = "、" if locale == "zh-TW" else ", "
        return [joint.join(_domain_label(d, locale) for d in report.domains), ""]
    path, kind = PATHS[label]
    value = _dig(report.year, path)
    error = report.year_errors.get(label) or None  # exact figures (headcount) carry no ±
    return [_out(value, locale, kind=kind), _error_cell(value, error)]


def _summary_rows(report: PlanYearReport, locale: str) -> list[list[Any]]:
    names = _metric(locale)
    rows = []
    for section, labels in SECTIONS:
        for index, label in enumerate(labels):
            cells = _summary_cells(report, label, locale)
            rows.append([names[section] if index == 0 else "", names[label], *cells, ""])
    return rows


MONTH_COLUMNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("participants", ("participation", "count"), "count"),
    ("participation", ("participation", "rate"), "rate"),
    ("users", ("utilization", "count"), "count"),
    ("utilization", ("utilization", "rate"), "rate"),
    ("sessions", ("sessions", "total"), "count"),
    ("used_hours", ("hours", "used_minutes"), "hours"),
    ("feedback_rate", ("feedback", "rate"), "rate"),
    ("satisfaction_mean", ("feedback", "satisfaction_mean"), "count"),
)


def report_tables(report: PlanYearReport, locale: str = "zh-TW") -> list[Table]:
    """The plan-year report as tables laid out like the year-end summary forms (彙整表)."""
    text, names = _text(locale), _metric(locale)
    last = report.period.end - timedelta(days=1)
    span = f"{report.period.start.isoformat()} – {last.isoformat()}"
    title = f"{report.organisation} {text['summary']}（{span}）"
    footnote = text["footnote"].format(**report.year["min_group"])
    header = [text["item"], text["metric"], text["value"], text["error"], text["note"]]
    summary = [[title], header, *_summary_rows(report, locale), [footnote]]
    monthly_header = [text["month"]]
    for label, _, _ in MONTH_COLUMNS:
        monthly_header += [names[label], text["error"]]
    monthly = [monthly_header] + [_month_row(m, locale) for m in report.months] + [[footnote]]
    domain_header = [
        text["domain"],
        names["sessions"],
        text["error"],
        text["share"],
        text["error"],
        names["used_hours"],
        text["error"],
    ]
    domains = [domain_header]
    e = report.year_errors
    for domain, cell in report.year["sessions"]["by_domain"].items():
        domains.append(
            [
                _domain_label(domain, locale),
                _out(cell["sessions"], locale),
                _error_cell(cell["sessions"], e["domain_sessions"]),
                _out(cell["share"], locale, kind="rate"),
                _error_cell(cell["share"], e["domain_share"]),
                _out(cell["minutes"], locale, kind="hours"),
                _error_cell(cell["minutes"], e["domain_hours"]),
            ]
        )
    domains.append([footnote])
    return [(text["summary"], summary), (text["monthly"], monthly), (text["domains"], domains)]


def _month_row(month: Figures, locale: str) -> list[Any]:
    row: list[Any] = [month.period.start.isoformat()]
    for label, path, kind in MONTH_COLUMNS:
        value = _dig(month.published, path)
        row += [_out(value, locale, kind=kind), _error_cell(value, month.errors.get(label))]
    return row


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
