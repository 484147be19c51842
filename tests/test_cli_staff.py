"""Operator commands: invite counselors and HR, list counselors, availability, slot import."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from storage.demo import demo_enrolment_code
from tests.conftest import TEST_KEY
from tests.test_console import run_cli


def prepared(tmp_path: Path) -> Path:
    db = tmp_path / "eap.db"
    assert run_cli(["migrate"], db).returncode == 0
    assert run_cli(["seed-demo"], db).returncode == 0
    return db


def test_invite_counselor_then_link_in_the_chat_and_list(tmp_path: Path) -> None:
    db = prepared(tmp_path)
    result = run_cli(
        [
            "invite",
            "counselor",
            "--org",
            "demo",
            "--name",
            "Dr Lee",
            "--domains",
            "psychology,legal",
            "--modes",
            "video",
            "--licence",
            "L-1",
            "--licence-expires",
            "2030-01-31",
        ],
        db,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    code = result.stdout.split(": ")[1].split()[0]
    chat = run_cli(["chat", "--user", "lee"], db, stdin=f"{code}\n")
    assert "綁定完成，歡迎加入" in chat.stdout
    listing = run_cli(["counselors", "list", "--org", "DEMO"], db)
    line = next(x for x in listing.stdout.splitlines() if "Dr Lee" in x)
    assert "psychology,legal" in line and line.rstrip().endswith("yes")


def test_invite_rejects_bad_input_clearly(tmp_path: Path) -> None:
    db = prepared(tmp_path)
    bad = run_cli(
        [
            "invite",
            "counselor",
            "--org",
            "DEMO",
            "--name",
            "X",
            "--domains",
            "magic",
            "--modes",
            "video",
            "--licence",
            "L",
            "--licence-expires",
            "2030-01-01",
        ],
        db,
    )
    assert bad.returncode == 2 and "--domains must be a comma-separated list" in bad.stdout
    nowhere = run_cli(["invite", "hr", "--org", "NOPE"], db)
    assert nowhere.returncode == 2 and "no organisation with code 'NOPE'" in nowhere.stdout
    assert "Traceback" not in bad.stderr + nowhere.stderr


def test_invite_hr_prints_a_code(tmp_path: Path) -> None:
    db = prepared(tmp_path)
    result = run_cli(["invite", "hr", "--org", "DEMO", "--name", "People team"], db)
    assert result.returncode == 0 and "one-time hr code for DEMO" in result.stdout


def test_availability_and_csv_import(tmp_path: Path) -> None:
    db = prepared(tmp_path)
    result = run_cli(
        [
            "counselors",
            "availability",
            "--id",
            "1",
            "--weekly",
            "mon 09:00-12:00; thu 13:00-17:00",
            "--session-minutes",
            "50",
            "--buffer",
            "10",
        ],
        db,
    )
    assert result.returncode == 0, result.stdout
    assert "new slots over the next 30 days" in result.stdout
    bad = run_cli(["counselors", "availability", "--id", "1", "--weekly", "someday 9-10"], db)
    assert bad.returncode == 2 and "unknown weekday" in bad.stdout
    csv_file = tmp_path / "slots.csv"
    csv_file.write_text("date,start\n2030-03-04,19:00\n2030-03-04,19:30\nnot-a-date,10:00\n")
    imported = run_cli(["counselors", "import-slots", "--id", "1", str(csv_file)], db)
    assert "added 1 slots, skipped 1" in imported.stdout
    assert "line 4: expected YYYY-MM-DD and HH:MM" in imported.stdout
    assert imported.returncode == 1


def test_roster_import_is_idempotent_and_reports(tmp_path: Path) -> None:
    db = prepared(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "employee_number,department,status\n"
        "N0001,Sales,active\nN0002,Sales,active\nE0003,Legal,left\nbad-line-no-status,,\n"
        "N0001,Sales,active\n"
    )
    first = run_cli(["roster", "import", str(roster), "--org", "DEMO"], db)
    assert "2 added, 1 updated, 0 unchanged, 1 marked as left" in first.stdout
    assert "line 5: needs an employee number and status active/left" in first.stdout
    assert "line 6: repeats line 2" in first.stdout
    assert "importing [" in first.stderr and "N0001" not in first.stdout + first.stderr
    again = run_cli(["roster", "import", str(roster), "--org", "DEMO"], db)
    assert "0 added, 0 updated, 3 unchanged, 0 marked as left" in again.stdout
    with sqlite3.connect(db) as connection:
        dump = "\n".join(connection.iterdump())
    assert "N0001" not in dump and "N0002" not in dump
    uncoded = run_cli(["chat", "--user", "n1"], db, stdin="1\nDEMO\nN0002\nANYCODE123\n")
    code = demo_enrolment_code(TEST_KEY.encode(), "E0003")
    left = run_cli(["chat", "--user", "n3"], db, stdin=f"1\nDEMO\nE0003\n{code}\n")
    for refused in (uncoded, left):
        assert "無法用這些資料完成綁定" in refused.stdout and "綁定完成" not in refused.stdout


def test_roster_import_generates_single_use_codes_for_hr(tmp_path: Path) -> None:
    db = prepared(tmp_path)
    roster, codes = tmp_path / "roster.csv", tmp_path / "codes.csv"
    roster.write_text(
        "employee_number,department,status,enrolment_code\n"
        "N0001,Sales,active,\nN0002,Sales,active,hrcode-2345\nN0003,Sales,left,\n"
    )
    first = run_cli(
        ["roster", "import", str(roster), "--org", "DEMO", "--generate-codes", str(codes)], db
    )
    assert (
        "3 added" in first.stdout and f"1 new enrolment codes written to {codes}" in first.stdout
    )
    assert stat.S_IMODE(codes.stat().st_mode) == 0o600
    [header, row] = codes.read_text().splitlines()
    number, code = row.split(",")
    assert (header, number, len(code)) == ("employee_number,enrolment_code", "N0001", 11)
    again = run_cli(
        ["roster", "import", str(roster), "--org", "DEMO", "--generate-codes", str(codes)], db
    )
    assert again.returncode == 2 and "refusing to overwrite" in again.stdout
    assert codes.read_text().splitlines() == [header, row]
    other = tmp_path / "more.csv"
    rerun = run_cli(
        ["roster", "import", str(roster), "--org", "DEMO", "--generate-codes", str(other)], db
    )
    assert "3 unchanged" in rerun.stdout and other.read_text().splitlines() == [header]
    with sqlite3.connect(db) as connection:
        dump = "\n".join(connection.iterdump())
    assert code not in dump and code.replace("-", "") not in dump and "HRCODE" not in dump
    linked = run_cli(["chat", "--user", "n1"], db, stdin=f"1\nDEMO\nN0001\n{code}\n")
    own = run_cli(["chat", "--user", "n2"], db, stdin="1\nDEMO\nn0002\nHRC0DE2345\n")
    reused = run_cli(["chat", "--user", "n9"], db, stdin=f"1\nDEMO\nN0001\n{code}\n")
    assert "綁定完成" in linked.stdout and "綁定完成" in own.stdout
    assert "無法用這些資料完成綁定" in reused.stdout and "綁定完成" not in reused.stdout
