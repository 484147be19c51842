"""Operator commands for crisis care: the monthly report and the on-call counselor."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import TEST_KEY


@pytest.fixture
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated SQLite database with the demo organisation, used by in-process commands."""
    db = tmp_path / "eap.db"
    for name in [n for n in os.environ if n.startswith("EAP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("EAP_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    monkeypatch.setenv("EAP_PSEUDONYM_KEY", TEST_KEY)
    assert main(["migrate"]) == 0
    assert main(["seed-demo"]) == 0
    return db


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run a command in this process; its exit code and what it printed."""
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_report_prints_counts_and_protocol_in_each_locale(demo_db, capsys) -> None:
    code, text = run(capsys, "crisis", "report", "--month", "2026-11", "--locale", "en")
    assert code == 0
    assert "2026-11" in text and "(DEMO): crisis episodes 0;" in text and "1925" in text
    code, text = run(capsys, "crisis", "report", "--month", "2026-11", "--locale", "zh-TW")
    assert code == 0 and "危機事件 0 次" in text and "{" not in text


@pytest.mark.parametrize("month", ["2026-13", "nov", "2026/11", ""])
def test_a_bad_month_is_refused_clearly(demo_db, capsys, month: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["crisis", "report", "--month", month])
    assert stopped.value.code == 2
    assert "month must look like 2026-11" in capsys.readouterr().err


def test_on_call_is_shown_set_and_turned_off(demo_db, capsys) -> None:
    assert run(capsys, "crisis", "on-call", "--org", "DEMO") == (
        0,
        "DEMO: no on-call counselor (the hand-off is not offered)\n",
    )
    code, text = run(capsys, "crisis", "on-call", "--org", "DEMO", "--id", "1")
    assert code == 2 and "has not linked a chat yet" in text
    with sqlite3.connect(demo_db) as db:
        db.execute("UPDATE counselor SET channel = 'telegram', external_id = '42' WHERE id = 1")
    code, text = run(capsys, "crisis", "on-call", "--org", "demo", "--id", "1")
    assert code == 0 and text.startswith("DEMO: on-call counselor is now 1 ")
    code, text = run(capsys, "crisis", "on-call", "--org", "DEMO")
    assert code == 0 and text.startswith("DEMO: on-call counselor 1 ")
    code, text = run(capsys, "crisis", "on-call", "--org", "DEMO", "--off")
    assert code == 0 and "no on-call counselor" in text
    with sqlite3.connect(demo_db) as db:
        assert db.execute("SELECT on_call_counselor_id FROM organisation").fetchall() == [(None,)]
        actions = [row[0] for row in db.execute("SELECT action FROM audit_log")]
    assert actions.count("crisis_on_call") == 2


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--org", "NOPE"], "no organisation with code 'NOPE'"),
        (["--org", "DEMO", "--id", "999"], "DEMO has no counselor with id 999"),
    ],
)
def test_on_call_refuses_unknown_names_clearly(demo_db, capsys, args, said) -> None:
    code, text = run(capsys, "crisis", "on-call", *args)
    assert code == 2 and said in text and "Traceback" not in text


def test_the_organisations_own_line_is_shown_set_and_removed(demo_db, capsys) -> None:
    code, text = run(capsys, "crisis", "org-line", "--org", "DEMO")
    assert code == 0 and "none (only the public lines are shown)" in text
    code, text = run(capsys, "crisis", "org-line", "--org", "DEMO", "--number", "0800  123-456")
    assert (code, text) == (0, "DEMO: own 24-hour line 0800 123-456\n")
    with sqlite3.connect(demo_db) as db:
        assert db.execute("SELECT crisis_line FROM organisation").fetchall() == [("0800 123-456",)]
    code, text = run(capsys, "crisis", "org-line", "--org", "DEMO", "--off")
    assert (code, text) == (0, "DEMO: own 24-hour line removed\n")


@pytest.mark.parametrize("number", ["call us", "12", "+", "0800-123-456-", "1" * 21])
def test_a_bad_phone_number_is_refused_clearly(demo_db, capsys, number: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["crisis", "org-line", "--org", "DEMO", "--number", number])
    assert stopped.value.code == 2
    assert "a phone number is 3 to 20 digits" in capsys.readouterr().err
