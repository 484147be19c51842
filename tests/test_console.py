"""The console channel in-process, and the CLI as a user runs it (subprocesses)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.channels.console import ConsoleChat
from storage.db import unit_of_work
from storage.demo import demo_enrolment_code, seed
from tests.conftest import TEST_KEY

ROOT = Path(__file__).resolve().parent.parent


async def test_console_numbers_pick_choices_and_print_only_the_chat(
    dispatcher, sessions, clock
) -> None:
    async with unit_of_work(sessions) as session:
        await seed(session, key=TEST_KEY.encode(), now=clock())
    out = io.StringIO()
    console = ConsoleChat(dispatcher, user="newcomer", out=out)
    code = demo_enrolment_code(TEST_KEY.encode(), "E0042")
    await console.run(io.StringIO(f"1\nDEMO\nE0042\n{code}\n2\n"))
    transcript = out.getvalue()
    lines = transcript.splitlines()
    assert lines[0].startswith("bot> 歡迎使用員工協助方案")
    assert "  1) 我同意，繼續" in lines
    assert "you> 1" in lines
    assert "bot> 請輸入貴公司的組織代碼（印在 EAP 海報或通知信上）：" in lines
    assert "bot> 請輸入您的員工編號：" in lines
    assert "人資" not in transcript.split("you> 1")[1].split("you> 2")[0]  # linking: never HR
    assert any(line.startswith("bot> 綁定完成！") for line in lines)
    assert "  2) 我的諮詢時數" in lines
    assert "尚可預約 8 小時" in transcript
    assert all(line.startswith(("bot> ", "you> ", "  ")) for line in lines)


def run_cli(args: list[str], db: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run `python bot.py ARGS` against a database file, as a user would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAP_")}
    env.update(EAP_DATABASE_URL=f"sqlite+aiosqlite:///{db}", EAP_PSEUDONYM_KEY=TEST_KEY)
    return subprocess.run(
        [sys.executable, "bot.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=120,
    )


def test_chat_on_an_unmigrated_database_says_to_migrate(tmp_path: Path) -> None:
    result = run_cli(["chat"], tmp_path / "empty.db")
    assert result.returncode == 1
    assert "python bot.py migrate" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_seed_and_piped_chat_reach_the_main_menu(tmp_path: Path) -> None:
    db = tmp_path / "eap.db"
    assert run_cli(["migrate"], db).returncode == 0
    first = run_cli(["seed-demo"], db)
    assert first.returncode == 0, first.stderr
    assert "one-time counselor invite code" in first.stdout
    code = demo_enrolment_code(TEST_KEY.encode(), "E0002")
    assert f"E0002 {code}" in first.stdout and "E0001" not in first.stdout
    again = run_cli(["seed-demo"], db)
    assert again.returncode == 0 and "0 new slots" in again.stdout
    chat = run_cli(["chat"], db, stdin="1\n")
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.startswith("bot> 您好，這裡是員工協助方案（EAP）。")
    assert "  1) 認識 EAP" in chat.stdout
    assert "you> 1" in chat.stdout
    assert chat.stderr == ""


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("EAP_PORT", "eighty", "EAP_PORT must be a whole number"),
        ("EAP_TIMEZONE", "Mars/Olympus", "EAP_TIMEZONE must be an IANA time zone"),
        ("EAP_DEFAULT_LOCALE", "fr", "EAP_DEFAULT_LOCALE must be one of zh-TW, en"),
        ("EAP_DATABASE_URL", "mysql://x", "EAP_DATABASE_URL must start with"),
    ],
)
def test_bad_settings_fail_naming_the_setting(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAP_")}
    env[variable] = value
    result = subprocess.run(
        [sys.executable, "bot.py", "migrate"],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_missing_pseudonym_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAP_")}
    env["EAP_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    env["EAP_PSEUDONYM_KEY"] = ""
    result = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "serve"],
        cwd=tmp_path,
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "EAP_PSEUDONYM_KEY is missing" in result.stderr


@pytest.mark.parametrize("command", ["migrate", "seed-demo", "chat", "serve"])
def test_every_command_has_help(command: str) -> None:
    result = subprocess.run(
        [sys.executable, "bot.py", command, "--help"],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert f"usage: eap-bot {command}" in result.stdout


def test_retention_setting_must_be_positive(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAP_")}
    env["EAP_RETENTION_EVENTS_DAYS"] = "0"
    result = subprocess.run(
        [sys.executable, "bot.py", "migrate"],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "EAP_RETENTION_EVENTS_DAYS must be at least 1" in result.stderr
