"""The one vetted table of crisis lines, and the words and numbers a crisis conversation reads.

No phone number of the table appears anywhere else in the code or the catalogs; every line has
a source and a check date; a time-limited programme disappears after its end date.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from bot.i18n import render
from handlers import crisis_lines, crisis_words
from handlers.crisis_lines import lines_for, lines_reply, programme, table
from handlers.crisis_model import MODEL_PATH

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("handlers", "bot", "storage", "kpi", "locales")
TEXT_FILES = {".py", ".ftl", ".txt", ".toml", ".json", ".jsonl", ".mmd", ".md", ".ini", ".mako"}
DAY = date(2026, 12, 4)


def number_hits(root: Path = ROOT) -> list[str]:
    """Where a number of the table appears outside the table (the model's weights aside)."""
    numbers = crisis_lines.numbers()
    pattern = re.compile(r"(?<![0-9])(" + "|".join(sorted(numbers)) + r")(?![0-9])")
    found = []
    for package in SCANNED:
        for path in sorted((root / package).rglob("*")):
            if path.suffix not in TEXT_FILES or path == crisis_lines.TABLE:
                continue
            if path.relative_to(root) == MODEL_PATH.relative_to(ROOT):
                continue
            if "__pycache__" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    found.append(f"{path.relative_to(root)}:{number}: {line.strip()[:80]}")
    return found


def test_no_phone_number_lives_outside_the_table() -> None:
    assert number_hits() == []


def test_the_scan_finds_a_number_outside_the_table(tmp_path: Path) -> None:
    for package in SCANNED:
        (tmp_path / package).mkdir()
    (tmp_path / "locales" / "x.ftl").write_text("help = call 1925 now\nyear = 19250\n")
    (tmp_path / "bot" / "y.py").write_text("LINE = '113'\n")
    assert number_hits(tmp_path) == [
        "bot/y.py:1: LINE = '113'",
        "locales/x.ftl:1: help = call 1925 now",
    ]


def test_the_table_holds_exactly_the_vetted_lines() -> None:
    lines = table().lines.values()
    assert {line.number: line.always_open for line in lines} == {
        "1925": True,
        "1995": True,
        "1980": False,  # 張老師 is not a 24-hour line, and says so
        "113": True,
        "110": True,
        "119": True,
    }
    for line in lines:
        assert line.sources and all(s.startswith("https://") for s in line.sources), line.id
        assert date(2026, 1, 1) <= line.checked <= DAY, line.id
        assert {"zh-TW", "en"} <= line.name.keys() == line.short.keys() == line.hours.keys()
        assert set(line.audience) <= {"self", "others-danger", "third-party", "emergency"}
    teacher = table().lines["teacher-chang"]
    assert "24" not in teacher.hours["en"].replace("not 24", "")


def test_each_kind_sees_only_lines_meant_for_it() -> None:
    for kind in crisis_lines.KINDS:
        for danger in (False, True):
            for line in lines_for(kind, on=DAY, danger=danger):
                allowed = {kind, "emergency"} if danger or kind == "third-party" else {kind}
                assert allowed & set(line.audience), (kind, danger, line.id)
    assert [x.number for x in lines_for("self", on=DAY)] == ["1925", "1995", "1980"]
    assert [x.number for x in lines_for("others-danger", on=DAY)] == ["113", "110"]
    assert [x.number for x in lines_for("third-party", on=DAY)] == ["1925", "119", "110"]
    assert [x.number for x in lines_for("self", on=DAY, danger=True)][:2] == ["119", "110"]
    assert [x.number for x in lines_for("others-danger", on=DAY, danger=True)][:2] == [
        "110",
        "113",
    ]
    assert crisis_lines.kind_of("none") == "self" == crisis_lines.kind_of("nonsense")


def test_the_free_programme_is_a_programme_shown_only_while_it_runs() -> None:
    found = programme(DAY)
    assert found is not None and (found.min_age, found.max_age) == (15, 45)
    assert found.sessions_per_year == 3 and found.since == date(2024, 8, 1)
    assert found.url.startswith("https://") and found.sources
    assert found.until is not None and programme(found.until) == found
    assert programme(date.fromordinal(found.until.toordinal() + 1)) is None
    assert programme(date(2024, 7, 31)) is None
    assert found.url not in {line.number for line in table().lines.values()}


def test_an_ended_line_is_not_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = crisis_lines.TABLE.read_text(encoding="utf-8").replace(
        'number = "1995"', 'number = "1995"\nuntil = 2026-01-31'
    )
    (tmp_path / "t.toml").write_text(text, encoding="utf-8")
    ended = crisis_lines.table(tmp_path / "t.toml")
    assert ended.lines["lifeline"].until == date(2026, 1, 31)
    monkeypatch.setattr(crisis_lines, "table", lambda path=None: ended)
    assert [x.number for x in lines_for("self", on=date(2026, 2, 1))] == ["1925", "1980"]
    assert [x.number for x in lines_for("self", on=date(2026, 1, 31))][1] == "1995"


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
def test_lines_render_name_number_and_hours_with_the_org_line_after_the_24_hour_ones(
    locale: str,
) -> None:
    reply = lines_reply(
        "crisis-lines-self", lines_for("self", on=DAY), locale, org_line="02-1234 5678"
    )
    text = render(locale, reply.key, reply.params)
    assert "{" not in text
    for number in ("1925", "1995", "1980", "02-1234 5678"):
        assert number in text
    assert text.index("1995") < text.index("02-1234 5678") < text.index("1980")
    assert [c.payload for c in reply.choices] == [
        "call:1925",
        "call:1995",
        "call:0212345678",
        "call:1980",
    ]
    english_note = "no vetted" in text
    assert english_note == (locale == "en")


def test_english_readers_are_told_when_no_line_speaks_english() -> None:
    self_lines = lines_reply("crisis-lines-self", lines_for("self", on=DAY), "en")
    keys = [key for key, _ in self_lines.params["lines"]]
    assert keys[-1] == "crisis-no-english"
    assert "no vetted" in render("en", self_lines.key, self_lines.params)
    threatened = lines_reply(
        "crisis-lines-others-danger", lines_for("others-danger", on=DAY), "en"
    )
    text = render("en", threatened.key, threatened.params)
    assert "English through an interpreter" in text and "no vetted" not in text


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("我有危險", "danger"),
        ("危險", "danger"),
        ("不安全", "danger"),
        ("救命！", "danger"),
        ("help", "danger"),
        ("HELP me", "danger"),
        ("I'm not safe", "danger"),
        ("danger", "danger"),
        ("no", "danger"),
        ("不", "danger"),
        ("我沒有危險", "danger"),  # unclear either way: never read as safe
        ("想找人談", "talk"),
        ("我想找人聊聊", "talk"),
        ("talk", "talk"),
        ("I want to talk to someone", "talk"),
        ("我沒事", "safe"),
        ("沒事啦", "safe"),
        ("還好", "safe"),
        ("我沒事了，謝謝", "safe"),
        ("I'm OK", "safe"),
        ("I’m ok now.", "safe"),
        ("fine", "safe"),
        ("好", None),
        ("嗯", None),
        ("yes", None),
        ("我不好", None),
        ("我沒事才怪", None),
        ("我不想談", None),
        ("I don't want to talk", None),
        ("", None),
        ("0912345678", None),
    ],
)
def test_typed_answers_are_read_only_when_clear(text: str, meaning: str | None) -> None:
    assert crisis_words.answer(text) == meaning


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0912345678", "0912345678"),
        ("0912-345-678", "0912345678"),
        ("０９１２３４５６７８", "0912345678"),
        ("+886912345678", "+886912345678"),
        ("+886 912 345 678", "+886912345678"),
        ("02-2345-6789", "0223456789"),
        ("(02) 2345 6789", "0223456789"),
        ("037-123456", "037123456"),
        ("049-2345678", "0492345678"),
        ("+886-2-2345-6789", "+886223456789"),
        ("+886 (0)2 2345 6789", "+886223456789"),
        ("091234567", None),
        ("09123456789", None),
        ("0123456789", None),
        ("12345", None),
        ("+1 415 555 0100", None),
        ("call me", None),
    ],
)
def test_callback_numbers_in_taiwanese_formats(text: str, number: str | None) -> None:
    assert crisis_words.phone(text) == number
