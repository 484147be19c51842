"""HR: linking, KPIs in the chat (own organisation only), CSV export, weekly digest, CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from handlers.digest import send_digests
from handlers.types import Lines, from_payload
from storage import orgs, staff
from storage.db import unit_of_work
from storage.models import AuditLog, HrUser, Organisation, OutboxMessage
from tests.conftest import TEST_KEY
from tests.helpers import Chat
from tests.test_console import run_cli
from tests.test_dialog_onboarding import link, seed_demo

KEY = TEST_KEY.encode()


async def linked_hr(dispatcher, sessions, clock, user: str = "hr-1") -> Chat:
    async with unit_of_work(sessions) as session:
        org = await orgs.by_code(session, "DEMO")
        person = await staff.create_hr_user(session, org=org, name="People Team")
        code = await staff.issue_invite(session, org=org, now=clock(), hr_user=person)
    chat = Chat(dispatcher, user)
    await chat.say(code)
    assert chat.keys == ["hr-linked", "hr-menu"]
    return chat


async def test_hr_sees_kpis_for_week_month_and_year(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    hr = await linked_hr(dispatcher, sessions, clock)
    employee = Chat(dispatcher, "emp")
    await link(employee)
    await employee.tap("hrs")
    for span in ("week", "month", "year"):
        await hr.tap(f"hr:k:{span}")
        assert hr.keys == ["hr-kpi"], span
        body = hr.replies[0].params["body"]
        assert isinstance(body, Lines)
        keys = [key for key, _ in body]
        assert keys[0] == "kpi-participation"
        assert ("kpi-change-participation" in keys) == (span == "week")
    participation = dict(body)["kpi-participation"]
    # One participant among 200 is under the minimum group of 5: suppressed, never "1".
    assert participation["state"] == "suppressed"
    assert participation["headcount"] == 200
    async with sessions() as session:
        actions = list(
            await session.scalars(select(AuditLog.action).where(AuditLog.actor_kind == "hr"))
        )
    assert actions == ["view_kpi_week", "view_kpi_month", "view_kpi_year"]


async def test_export_is_csv_of_published_figures(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    hr = await linked_hr(dispatcher, sessions, clock)
    await hr.say("/export")
    assert hr.keys == ["hr-export-ready"]
    attachment = hr.replies[0].attachment
    assert attachment.mime_type == "text/csv" and attachment.filename.endswith(".csv")
    text = attachment.content.decode("utf-8-sig")
    assert "參與率" in text and "E0001" not in text


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
    await hr.tap("hr:k:year")
    assert hr.replies[0].params["organisation"] == "Other Co"
    assert dict(hr.replies[0].params["body"])["kpi-participation"]["headcount"] == 0


async def test_weekly_digest_is_queued_once_per_week_with_chart(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    await linked_hr(dispatcher, sessions, clock)
    monday_nine = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 in Taipei
    assert await send_digests(sessions, monday_nine - timedelta(hours=1), KEY) == 0
    assert await send_digests(sessions, monday_nine, KEY) == 1
    assert await send_digests(sessions, monday_nine + timedelta(hours=2), KEY) == 0
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        users = await session.scalar(select(func.count()).select_from(HrUser))
    replies = from_payload(row.payload)
    assert [r.key for r in replies] == ["hr-digest", "hr-digest-chart"]
    chart = replies[1].attachment
    assert chart.mime_type == "image/png" and chart.content.startswith(b"\x89PNG")
    assert users == 2  # the demo HR user is not linked, so only one digest was queued


def test_cli_kpi_show_digest_dry_run_and_report(tmp_path: Path) -> None:
    db = tmp_path / "eap.db"
    assert run_cli(["migrate"], db).returncode == 0
    assert run_cli(["seed-demo"], db).returncode == 0
    table = run_cli(["kpi", "show", "--org", "DEMO", "--locale", "en"], db)
    assert table.returncode == 0 and "Participation: 0% (0 of 200 employees)" in table.stdout
    as_json = run_cli(["kpi", "show", "--org", "DEMO", "--format", "json"], db)
    assert '"headcount": 200' in as_json.stdout
    dry = run_cli(["digest", "send", "--org", "DEMO", "--dry-run"], db)
    assert "每週 EAP 摘要" in dry.stdout and ".png" in dry.stdout
    out = tmp_path / "report.xlsx"
    report = run_cli(["report", "--org", "DEMO", "--output", str(out)], db)
    assert report.returncode == 0 and out.read_bytes().startswith(b"PK")
    bad = run_cli(["kpi", "show", "--org", "NOPE"], db)
    assert bad.returncode == 2 and "no organisation" in bad.stderr
