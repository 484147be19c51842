"""HR: linking, KPIs in the chat (own organisation only), CSV export, weekly digest, CLI."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.cli_hr import RAW_WARNING
from bot.i18n import render
from handlers.digest import send_digests
from handlers.types import Lines, from_payload
from storage import orgs, staff
from storage.db import unit_of_work
from storage.models import AuditLog, HrUser, Organisation, OutboxMessage
from tests.conftest import TEST_KEY
from tests.helpers import Chat, release_figures
from tests.test_console import run_cli
from tests.test_dialog_onboarding import link, seed_demo

KEY = TEST_KEY.encode()
DEMO_ZONE = Organisation(timezone="Asia/Taipei")


async def linked_hr(dispatcher, sessions, clock, user: str = "hr-1") -> Chat:
    async with unit_of_work(sessions) as session:
        org = await orgs.by_code(session, "DEMO")
        person = await staff.create_hr_user(session, org=org, name="People Team")
        code = await staff.issue_invite(session, org=org, now=clock(), hr_user=person)
    chat = Chat(dispatcher, user)
    await chat.say(code)
    assert chat.keys == ["hr-linked", "hr-menu"]
    return chat


async def test_hr_sees_released_kpis_of_the_month_and_the_plan_year(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    hr = await linked_hr(dispatcher, sessions, clock)
    await release_figures(sessions, clock())  # no noise: this checks the plumbing
    for span in ("month", "year"):
        await hr.tap(f"hr:k:{span}")
        assert hr.keys == ["hr-kpi"], span
        body = hr.replies[0].params["body"]
        assert isinstance(body, Lines)
        keys = [key for key, _ in body]
        assert keys[0] == "kpi-participation"
        assert ("kpi-change-participation" in keys) == (span == "month")
        assert keys[-1] == "kpi-release-note"
        # The released month: it ended at least 14 days ago, and the plan year ends with it.
        last_day = hr.replies[0].params["last_day"]
        assert last_day + timedelta(days=15) <= orgs.local_date(DEMO_ZONE, clock())
        note = dict(body)["kpi-release-note"]
        assert note["next_release"] > orgs.local_date(DEMO_ZONE, clock())
    participation = dict(body)["kpi-participation"]
    assert participation["headcount"] == 200
    assert participation["count_error"] == 26  # people: the 95 % error of a noisy count
    assert participation["error"] == round(26 / 200 * 100, 1)  # percentage points
    async with sessions() as session:
        actions = list(
            await session.scalars(select(AuditLog.action).where(AuditLog.actor_kind == "hr"))
        )
    assert actions == ["view_kpi_month", "view_kpi_year"]


async def test_before_any_release_hr_is_told_when_figures_come(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    hr = await linked_hr(dispatcher, sessions, clock)
    today = orgs.local_date(DEMO_ZONE, clock())
    for attempt in ("hr:k:month", "hr:k:year", "hrx"):
        await hr.tap(attempt)
        assert hr.keys == ["kpi-not-released"], attempt
        next_release = hr.replies[0].params["next_release"]
        assert today < next_release <= today + timedelta(days=45)
    for locale in ("zh-TW", "en"):
        text = render(locale, "kpi-not-released", hr.replies[0].params)
        assert str(next_release.year) in text and "14" in text and "{" not in text
    assert "您" in render("zh-TW", "kpi-not-released", hr.replies[0].params)


async def test_export_is_csv_of_released_figures(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    hr = await linked_hr(dispatcher, sessions, clock)
    await release_figures(sessions, clock())  # no noise: this checks the plumbing
    await hr.say("/export")
    assert hr.keys == ["hr-export-ready"]
    attachment = hr.replies[0].attachment
    assert attachment.mime_type == "text/csv" and attachment.filename.endswith(".csv")
    text = attachment.content.decode("utf-8-sig")
    assert "參與率" in text and "E0001" not in text
    assert "±（95%）" in text  # every figure's error in a column of its own


async def test_employees_and_counselors_cannot_use_hr_commands(
    dispatcher, sessions, clock
) -> None:
    from tests.test_counselors import linked_counselor

    await seed_demo(sessions, clock)
    employee = Chat(dispatcher, "emp")
    await link(employee)
    counselor = await linked_counselor(dispatcher, sessions, clock)
    for chat in (employee, counselor):
        for attempt in ("/kpi", "/export"):
            await chat.say(attempt)
            assert chat.keys[0] == "error-not-allowed", attempt
        await chat.tap("hr:k:year")
        assert chat.keys[0] == "error-not-allowed"


async def test_hr_of_another_organisation_sees_only_its_own(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    async with unit_of_work(sessions) as session:
        other = Organisation(code="OTHER", name="Other Co", created_at=clock())
        session.add(other)
        await session.flush()
        person = await staff.create_hr_user(session, org=other, name="Other HR")
        code = await staff.issue_invite(session, org=other, now=clock(), hr_user=person)
    hr = Chat(dispatcher, "other-hr")
    await hr.say(code)
    await release_figures(sessions, clock())  # no noise: this checks who sees what
    await hr.tap("hr:k:year")
    assert hr.replies[0].params["organisation"] == "Other Co"
    assert dict(hr.replies[0].params["body"])["kpi-participation"]["headcount"] == 0


async def test_weekly_digest_is_queued_once_per_week_with_chart(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    await linked_hr(dispatcher, sessions, clock)
    monday_nine = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 in Taipei
    await release_figures(sessions, monday_nine)  # no noise: this checks the plumbing
    assert await send_digests(sessions, monday_nine - timedelta(hours=1), KEY) == 0
    assert await send_digests(sessions, monday_nine, KEY) == 1
    assert await send_digests(sessions, monday_nine + timedelta(hours=2), KEY) == 0
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        users = await session.scalar(select(func.count()).select_from(HrUser))
    replies = from_payload(row.payload)
    assert [r.key for r in replies] == ["hr-digest", "hr-digest-chart"]
    # The latest month released by then: October 2026, with the day of the next release.
    assert (replies[0].params["first_day"], replies[0].params["last_day"]) == (
        date(2026, 10, 1),
        date(2026, 10, 31),
    )
    note = dict(replies[0].params["body"])["kpi-release-note"]
    assert note["next_release"] == date(2026, 12, 15)
    chart = replies[1].attachment
    assert chart.mime_type == "image/png" and chart.content.startswith(b"\x89PNG")
    assert users == 2  # the demo HR user is not linked, so only one digest was queued


def test_cli_kpi_show_digest_dry_run_and_report(tmp_path: Path) -> None:
    db = tmp_path / "eap.db"
    assert run_cli(["migrate"], db).returncode == 0
    assert run_cli(["seed-demo"], db).returncode == 0
    before = run_cli(["kpi", "show", "--org", "DEMO", "--locale", "en"], db)
    assert before.returncode == 0 and before.stdout.startswith("No figures have been released")
    out = tmp_path / "report.xlsx"
    none_yet = run_cli(["report", "--org", "DEMO", "--output", str(out)], db)
    assert none_yet.returncode == 1 and "14 天後發布" in none_yet.stderr
    assert not out.exists()
    # The real job, with OpenDP's noise: only the structure is checked here.
    assert run_cli(["jobs", "run", "kpi_releases"], db).returncode == 0
    table = run_cli(["kpi", "show", "--org", "DEMO", "--locale", "en"], db)
    assert table.returncode == 0 and table.stdout.count("📊 示範科技股份有限公司") == 2
    assert "Participation" in table.stdout and "next release is on" in table.stdout
    as_json = run_cli(["kpi", "show", "--org", "DEMO", "--format", "json"], db)
    assert '"headcount": 200' in as_json.stdout and '"participation": 13.0' in as_json.stdout
    dry = run_cli(["digest", "send", "--org", "DEMO", "--dry-run"], db)
    assert "每週 EAP 摘要" in dry.stdout and ".png" in dry.stdout and "±" in dry.stdout
    report = run_cli(["report", "--org", "DEMO", "--output", str(out)], db)
    assert report.returncode == 0 and out.read_bytes().startswith(b"PK")
    bad = run_cli(["kpi", "show", "--org", "NOPE"], db)
    assert bad.returncode == 2 and "no organisation" in bad.stderr


def test_cli_kpi_show_raw_warns_and_is_audited(tmp_path: Path) -> None:
    db = tmp_path / "eap.db"
    assert run_cli(["migrate"], db).returncode == 0
    assert run_cli(["seed-demo"], db).returncode == 0
    raw = run_cli(["kpi", "show", "--org", "DEMO", "--raw"], db)
    assert raw.returncode == 0
    first, _, rest = raw.stdout.partition("\n")
    assert first == RAW_WARNING
    assert "provider's own checks only" in first and "do not give them to HR" in first
    assert json.loads(rest)["departments"]  # the live counts follow, as JSON
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT actor_kind, detail FROM audit_log WHERE action = 'kpi-raw'"
        ).fetchall()
    assert len(rows) == 1 and rows[0][0] == "operator"
    assert set(json.loads(rows[0][1])) == {"start", "end"}
