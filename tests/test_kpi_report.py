"""Digest lines (keys and parameters), the digest CSV and the plan-year CSV/XLSX report."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import SUPPORTED, render
from kpi import released, report
from kpi.anonymise import publish
from kpi.metrics import FeedbackCounts
from storage.db import unit_of_work
from tests.helpers import release_figures
from tests.test_kpi_anonymise import T, counts
from tests.test_kpi_metrics import WEEK, World, seed
from tests.test_kpi_release import NOVEMBER, SETTLED, YEAR

NOW = counts(
    {"Sales": (60, 30, 15), "Ops": (40, 10, 10)},
    repeat_users=12,
    sessions={"psychology": 30, "legal": 3, "finance": 12, "nutrition": 0},
    used_minutes={"psychology": 1800, "legal": 180, "finance": 720, "nutrition": 0},
    used_entries={"psychology": 30, "legal": 3, "finance": 12, "nutrition": 0},
    feedback=FeedbackCounts(40, 30, 30, 24, 120, 30, 20, 30, 29),
    crisis_events=12,
)
BEFORE = counts(
    {"Sales": (60, 10, 8), "Ops": (40, 10, 7)},
    period=WEEK.previous(),
    sessions={"psychology": 15},
)


# The stored 95 % errors of a release (protect.errors), fixed here to keep OpenDP out.
ERROR = {
    "people": 26,
    "sessions": 52,
    "minutes": 3000,
    "bookings": 26,
    "feedback": 26,
    "satisfaction_sum": 130,
    "crisis_episodes": 26,
}


def _digest() -> report.Digest:
    errors = released.figure_errors(NOW, ERROR)
    return report.Digest(
        organisation="ACME",
        period=WEEK,
        figures=publish(NOW, T, previous=BEFORE),
        errors=errors,
        change_errors=released.change_errors(errors, released.figure_errors(BEFORE, ERROR)),
        plan_year=publish(NOW, T),
        year_errors=errors,
        trend=[],
        released_on=date(2026, 12, 15),
        next_release=date(2027, 1, 14),
    )


def test_digest_lines_by_hand() -> None:
    lines = {line.key: line.params for line in _digest().lines()}
    assert lines["kpi-digest-title"] == {
        "organisation": "ACME",
        "first_day": date(2026, 11, 16),
        "last_day": date(2026, 11, 22),
    }
    # 30 + 10 of 60 + 40 took part; last week 10 + 10: +20 points, x2.
    # Errors: 26 people of 100 employees is ±26 percentage points.
    assert lines["kpi-participation"] == {
        "state": "shown",
        "percent": 40.0,
        "error": 26.0,
        "count": 40,
        "count_error": 26.0,
        "headcount": 100,
    }
    # A change carries both periods' noise: 26 and 26 points, 36.8 together.
    assert lines["kpi-change-participation"] == {
        "state": "shown",
        "difference": 20.0,
        "multiple": 2.0,
        "error": 36.8,
    }
    # 15 + 10 users of 100; last week 8 + 7 = 15: +10 points, 25 / 15 = 1.67 times.
    assert lines["kpi-utilization"] == {
        "state": "shown",
        "percent": 25.0,
        "error": 26.0,
        "count": 25,
        "count_error": 26.0,
    }
    assert lines["kpi-change-utilization"] == {
        "state": "shown",
        "difference": 10.0,
        "multiple": 1.67,
        "error": 36.8,
    }
    assert lines["kpi-sessions"] == {"state": "shown", "sessions": 45, "error": 52.0}
    assert lines["kpi-change-sessions"] == {
        "state": "shown",
        "difference": 30,
        "multiple": 3.0,
        "error": 73.5,
    }
    # 26 answers of 40 prompts: ±65 points; of 30 satisfaction answers: ±86.7.
    assert lines["kpi-feedback"] == {
        "state": "shown",
        "percent": 75.0,
        "error": 65.0,
        "count": 30,
        "count_error": 26.0,
        "prompts": 40,
    }
    assert lines["kpi-satisfaction"] == {"state": "shown", "mean": 4.0, "error": 4.33}
    assert lines["kpi-satisfied"] == {"state": "suppressed", "percent": 0.0, "error": 86.7}
    assert lines["kpi-resolved"] == {"state": "shown", "percent": 66.7, "error": 86.7}
    assert lines["kpi-again"] == {"state": "suppressed", "percent": 0.0, "error": 86.7}
    # 2700 minutes = 45 h of 100 x 8 h = 800 h: 5.6 %; 3000 minutes = ±50 h, ±6.3 points.
    assert lines["kpi-hours-year"] == {
        "state": "shown",
        "percent": 5.6,
        "error": 6.2,
        "used": 45.0,
        "used_error": 50.0,
        "allotted": 800.0,
    }
    assert lines["kpi-crisis"] == {"state": "shown", "count": 12, "error": 26.0}
    assert lines["kpi-suppression-note"] == {"people": 5, "usage": 10}
    assert lines["kpi-release-note"] == {
        "released": date(2026, 12, 15),
        "next_release": date(2027, 1, 14),
    }


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_digest_line_renders(locale: str) -> None:
    for line in _digest().lines():
        text = render(locale, line.key, line.params)
        assert text != line.key
        assert "{" not in text


def test_digest_line_wording() -> None:
    lines = {line.key: line.params for line in _digest().lines()}
    assert render("zh-TW", "kpi-participation", lines["kpi-participation"]) == (
        "參與率 40%（±26 個百分點，95%）；40 人（±26 人）／100 人"
    )
    assert render("en", "kpi-satisfied", lines["kpi-satisfied"]) == (
        "Satisfied: too few answers to show"
    )


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_digest_csv() -> None:
    rows = {row[0]: row[1:] for row in _csv_rows(_digest().csv("zh-TW")) if row}
    e = "±（95%）"
    assert rows["指標"] == ["本期", e, "變化", e, "成長倍數", "計畫年度累計（至本期末）", e]
    assert rows["參與率（%）"] == ["40.0", "26.0", "20.0", "36.8", "2.0", "40.0", "26.0"]
    assert rows["參與人數（人）"] == ["40", "26", "20", "36.8", "2.0", "40", "26"]
    assert rows["在職員工數（人）"] == ["100", "0", "", "", "", "100", "0"]
    assert rows["法律諮詢場次（場）"] == ["不予顯示", "", "", "", "", "不予顯示", ""]
    assert rows["心理使用時數（小時）"] == ["30.0", "50.0", "", "", "", "30.0", "50.0"]
    assert rows["重複使用率（%）"][0] == "48.0"  # 12 of 25 repeat, 13 do not
    english = {row[0]: row[1:] for row in _csv_rows(_digest().csv("en")) if row}
    assert english["Satisfied, 4-5 (%)"][0] == "suppressed"


async def _released(sessions: async_sessionmaker[AsyncSession]) -> World:
    world = await seed(sessions)
    await release_figures(sessions, SETTLED)  # no noise: these check the plumbing
    return world


async def test_digest_of_the_released_month(sessions: async_sessionmaker[AsyncSession]) -> None:
    world = await _released(sessions)
    async with unit_of_work(sessions) as session:
        digest = await report.released_digest(session, world.org, today=SETTLED.date())
        year = await report.released_digest(
            session, world.org, today=SETTLED.date(), span=report.YEAR
        )
    assert digest is not None and year is not None
    assert digest.period == NOVEMBER and year.period == YEAR
    assert [p.start for p in digest.trend][-2:] == [date(2026, 10, 1), NOVEMBER.start]
    assert len(digest.trend) == report.TREND_MONTHS  # December 2025 to November 2026
    assert digest.next_release == date(2027, 1, 15)  # December ends on 1 January
    lines = {line.key: line.params for line in digest.lines()}
    assert lines["kpi-participation"]["headcount"] == 12
    assert lines["kpi-participation"]["error"] == 216.7  # 26 people of 12: a tiny group
    assert "kpi-change-participation" in lines
    assert "kpi-change-participation" not in {line.key for line in year.lines()}
    assert lines["kpi-release-note"]["released"] == SETTLED.date()
    assert digest.chart("zh-TW")[:4] == b"\x89PNG"
    assert all(secret not in digest.csv().decode("utf-8-sig") for secret in world.secrets)


async def test_no_digest_before_the_first_release(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = await seed(sessions)
    async with unit_of_work(sessions) as session:
        assert await report.released_digest(session, world.org, today=SETTLED.date()) is None
        assert await report.plan_year_report(session, world.org, on=SETTLED.date()) is None


async def test_plan_year_report(sessions: async_sessionmaker[AsyncSession]) -> None:
    world = await _released(sessions)
    async with unit_of_work(sessions) as session:
        result = await report.plan_year_report(session, world.org, on=SETTLED.date())
    assert result is not None
    assert result.period == YEAR
    assert len(result.months) == 11
    assert result.months[-1].period == NOVEMBER
    tables = report.report_tables(result, "zh-TW")
    assert [title for title, _ in tables] == [
        "員工協助方案年度成果彙整表",
        "各月統計",
        "服務領域統計",
    ]
    summary = tables[0][1]
    assert summary[0][0] == "Org ACME 員工協助方案年度成果彙整表（2026-01-01 – 2026-11-30）"
    assert summary[1] == ["項目", "指標", "數值", "±（95%）", "說明"]
    assert ["一、機制建置", "在職員工數（人）", 12, "", ""] in summary
    assert ["", "每人年度可用時數（小時）", 8.0, "", ""] in summary
    # Without noise: 5 of 12 took part, ±26 people, ±216.7 points for so small a group.
    assert ["二、宣導推廣（參與率）", "參與人數（人）", 5, 26, ""] in summary
    assert ["", "參與率（%）", 41.7, 216.7, ""] in summary
    assert ["三、服務提供（使用率）", "使用人數（人）", "不予顯示", "", ""] in summary
    monthly = tables[1][1]
    assert monthly[0][:3] == ["月份（起始日）", "參與人數（人）", "±（95%）"]
    text = result.csv("zh-TW").decode("utf-8-sig")
    assert "四、檢討回饋（回饋率）" in text
    assert all(secret not in text for secret in world.secrets)


async def test_plan_year_xlsx(sessions: async_sessionmaker[AsyncSession]) -> None:
    world = await _released(sessions)
    async with unit_of_work(sessions) as session:
        result = await report.plan_year_report(session, world.org, on=SETTLED.date())
    assert result is not None
    book = load_workbook(io.BytesIO(result.xlsx("en")))
    assert book.sheetnames == ["EAP year-end summary table", "By month", "By service domain"]
    summary = book["EAP year-end summary table"]
    assert summary["A2"].value == "Item"
    assert summary["A2"].font.bold
    values = [[c.value for c in row] for row in summary.iter_rows()]
    assert ["1. Mechanism", "Active employees", 12, None, None] in values
    monthly = book["By month"]
    assert monthly.max_row == 1 + 11 + 1
    assert monthly["A2"].value == "2026-01-01"
    domains = [[c.value for c in row] for row in book["By service domain"].iter_rows()]
    assert domains[1][0] == "Psychology"
