"""Digest lines (keys and parameters), the digest CSV and the plan-year CSV/XLSX report."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import SUPPORTED, render
from kpi import report, snapshot
from kpi.anonymise import SUPPRESSED as S
from kpi.anonymise import publish
from kpi.metrics import FeedbackCounts, Period
from storage.db import unit_of_work
from storage.models import KpiSnapshot
from tests.test_kpi_anonymise import T, counts
from tests.test_kpi_metrics import WEEK, seed

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


def _digest() -> report.WeeklyDigest:
    return report.WeeklyDigest(
        organisation="ACME",
        week=WEEK,
        figures=publish(NOW, T, previous=BEFORE),
        plan_year=publish(NOW, T),
        trend=[],
    )


def test_digest_lines_by_hand() -> None:
    lines = {line.key: line.params for line in _digest().lines()}
    assert lines["kpi-digest-title"] == {
        "organisation": "ACME",
        "first_day": date(2026, 11, 16),
        "last_day": date(2026, 11, 22),
    }
    # 30 + 10 of 60 + 40 took part; last week 10 + 10: +20 points, x2.
    assert lines["kpi-participation"] == {
        "state": "shown",
        "percent": 40.0,
        "count": 40,
        "headcount": 100,
    }
    assert lines["kpi-change-participation"] == {
        "state": "shown",
        "difference": 20.0,
        "multiple": 2.0,
    }
    # 15 + 10 users of 100; last week 8 + 7 = 15: +10 points, 25 / 15 = 1.67 times.
    assert lines["kpi-utilization"] == {"state": "shown", "percent": 25.0, "count": 25}
    assert lines["kpi-change-utilization"] == {
        "state": "shown",
        "difference": 10.0,
        "multiple": 1.67,
    }
    assert lines["kpi-sessions"] == {"state": "shown", "sessions": 45}
    assert lines["kpi-change-sessions"] == {"state": "shown", "difference": 30, "multiple": 3.0}
    assert lines["kpi-feedback"] == {"state": "shown", "percent": 75.0, "count": 30, "prompts": 40}
    assert lines["kpi-satisfaction"] == {"state": "shown", "mean": 4.0}
    assert lines["kpi-satisfied"] == {"state": "suppressed", "percent": 0.0}  # 6 not satisfied
    assert lines["kpi-resolved"] == {"state": "shown", "percent": 66.7}  # 20 of 30
    assert lines["kpi-again"] == {"state": "suppressed", "percent": 0.0}  # 1 would not
    # 2700 minutes = 45 h of 100 x 8 h = 800 h: 5.6 %.
    assert lines["kpi-hours-year"] == {
        "state": "shown",
        "percent": 5.6,
        "used": 45.0,
        "allotted": 800.0,
    }
    assert lines["kpi-crisis"] == {"state": "shown", "count": 12}
    assert lines["kpi-suppression-note"] == {"people": 5, "usage": 10}


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_digest_line_renders(locale: str) -> None:
    for line in _digest().lines():
        text = render(locale, line.key, line.params)
        assert text != line.key
        assert "{" not in text


def test_digest_line_wording() -> None:
    lines = {line.key: line.params for line in _digest().lines()}
    assert render("zh-TW", "kpi-participation", lines["kpi-participation"]) == (
        "參與率：40%（40／100 人）"
    )
    assert render("en", "kpi-satisfied", lines["kpi-satisfied"]) == (
        "Satisfied: too few answers to show"
    )


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_digest_csv() -> None:
    rows = {row[0]: row[1:] for row in _csv_rows(_digest().csv("zh-TW")) if row}
    assert rows["指標"] == ["本週", "變化", "成長倍數", "計畫年度累計"]
    assert rows["參與率（%）"] == ["40.0", "20.0", "2.0", "40.0"]
    assert rows["參與人數（人）"] == ["40", "20", "2.0", "40"]
    assert rows["法律諮詢場次（場）"] == ["不予顯示", "", "", "不予顯示"]
    assert rows["心理使用時數（小時）"] == ["30.0", "", "", "30.0"]
    assert rows["重複使用率（%）"][0] == "48.0"  # 12 of 25 repeat, 13 do not
    english = {row[0]: row[1:] for row in _csv_rows(_digest().csv("en")) if row}
    assert english["Satisfied, 4-5 (%)"][0] == "suppressed"


async def test_weekly_digest_from_the_database(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = await seed(sessions)
    async with unit_of_work(sessions) as session:
        digest = await report.weekly_digest(session, world.org, today=date(2026, 11, 24))
    assert digest.week == WEEK
    assert [p.week_start for p in digest.trend][-2:] == [date(2026, 11, 9), WEEK.start]
    assert len(digest.trend) == report.TREND_WEEKS
    lines = {line.key: line.params for line in digest.lines()}
    assert lines["kpi-participation"]["state"] == "suppressed"  # 3 people
    assert lines["kpi-participation"]["headcount"] == 12
    assert lines["kpi-change-participation"]["state"] == "suppressed"
    # Plan year: 9 + 1 = 10 used entries (enough), 480 + 60 minutes of 12 x 480.
    assert lines["kpi-hours-year"] == {
        "state": "shown",
        "percent": round(540 / 5760 * 100, 1),
        "used": 540 / 60,
        "allotted": 12 * 480 / 60,
    }
    assert digest.chart("zh-TW")[:4] == b"\x89PNG"
    assert all(secret not in digest.csv().decode("utf-8-sig") for secret in world.secrets)


async def test_trend_reads_stored_snapshots(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = await seed(sessions)
    await snapshot.snapshot_all(sessions, snapshot_time())
    async with unit_of_work(sessions) as session:
        row = await session.scalar(
            select(KpiSnapshot).where(KpiSnapshot.organisation_id == world.org.id)
        )
        assert row is not None
        body = dict(row.metrics)
        body["week"] = {**body["week"], "participation": {"count": 7, "rate": 0.5}}
        row.metrics = body
    async with unit_of_work(sessions) as session:
        digest = await report.weekly_digest(session, world.org, today=date(2026, 11, 24))
    assert digest.trend[-1].participation == 0.5
    assert digest.trend[-2].participation == S


def snapshot_time() -> object:
    """Tuesday 2026-11-24, 10:00 in Taipei."""
    from datetime import UTC, datetime

    return datetime(2026, 11, 24, 2, tzinfo=UTC)


async def test_plan_year_report(sessions: async_sessionmaker[AsyncSession]) -> None:
    world = await seed(sessions)
    async with unit_of_work(sessions) as session:
        result = await report.plan_year_report(session, world.org, on=date(2026, 11, 22))
    assert result.period == Period(date(2026, 1, 1), date(2026, 11, 23))
    assert len(result.months) == 11
    assert result.months[-1]["period"] == {"start": "2026-11-01", "end": "2026-11-23"}
    tables = report.report_tables(result, "zh-TW")
    assert [title for title, _ in tables] == [
        "員工協助方案年度成果彙整表",
        "各月統計",
        "服務領域統計",
    ]
    summary = tables[0][1]
    assert summary[0][0] == "Org ACME 員工協助方案年度成果彙整表（2026-01-01 – 2026-11-22）"
    assert summary[1] == ["項目", "指標", "數值", "說明"]
    assert ["一、機制建置", "在職員工數（人）", 12, ""] in summary
    assert ["", "每人年度可用時數（小時）", 8.0, ""] in summary
    assert ["二、宣導推廣（參與率）", "參與人數（人）", "不予顯示", ""] in summary
    text = result.csv("zh-TW").decode("utf-8-sig")
    assert "四、檢討回饋（回饋率）" in text
    assert all(secret not in text for secret in world.secrets)


async def test_plan_year_xlsx(sessions: async_sessionmaker[AsyncSession]) -> None:
    world = await seed(sessions)
    async with unit_of_work(sessions) as session:
        result = await report.plan_year_report(session, world.org, on=date(2026, 11, 22))
    book = load_workbook(io.BytesIO(result.xlsx("en")))
    assert book.sheetnames == ["EAP year-end summary table", "By month", "By service domain"]
    summary = book["EAP year-end summary table"]
    assert summary["A2"].value == "Item"
    assert summary["A2"].font.bold
    values = [[c.value for c in row] for row in summary.iter_rows()]
    assert ["1. Mechanism", "Active employees", 12, None] in values
    monthly = book["By month"]
    assert monthly.max_row == 1 + 11 + 1
    assert monthly["A2"].value == "2026-01-01"
    domains = [[c.value for c in row] for row in book["By service domain"].iter_rows()]
    assert domains[1][0] == "Psychology"
