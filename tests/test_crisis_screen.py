"""The crisis screen: real cries for help hit, everyday venting and idioms do not."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.crisis_screen import PHRASE_DIR, CrisisPhrases, is_crisis, load_phrases

DATA = Path(__file__).resolve().parent / "data"
CJK = re.compile("[\u3100-\u312f\u3400-\u9fff\uf900-\ufaff]")
MINIMUM_PER_LANGUAGE = 70


def sentences(name: str) -> list[tuple[str, str]]:
    """(id, sentence) for each non-comment line of a data file; the id names language and line."""
    rows = []
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text and not text.startswith("#"):
            language = "zh" if CJK.search(text) else "en"
            rows.append((f"{language}:{number}:{text[:40]}", text))
    return rows


HITS = sentences("crisis_hits.txt")
MISSES = sentences("crisis_misses.txt")


def write(directory: Path, name: str, text: str) -> None:
    """Write one phrase file."""
    (directory / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize("text", [t for _, t in HITS], ids=[i for i, _ in HITS])
def test_must_hit(text: str) -> None:
    assert is_crisis(text) is True


@pytest.mark.parametrize("text", [t for _, t in MISSES], ids=[i for i, _ in MISSES])
def test_must_not_hit(text: str) -> None:
    assert is_crisis(text) is False


@pytest.mark.parametrize("rows", [HITS, MISSES], ids=["hits", "misses"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_enough_sentences_per_language(rows: list[tuple[str, str]], language: str) -> None:
    assert sum(1 for i, _ in rows if i.startswith(language)) >= MINIMUM_PER_LANGUAGE


def test_no_sentence_is_both_a_hit_and_a_miss() -> None:
    assert not {t for _, t in HITS} & {t for _, t in MISSES}


@pytest.mark.parametrize("text", ["", " ", "   \n\t ", "\u3000\u3000", "。", "...", "\u200b"])
def test_empty_and_blank_text_does_not_hit(text: str) -> None:
    assert is_crisis(text) is False


@pytest.mark.parametrize(
    "text",
    [
        "I WANT TO DIE",
        "i WaNt To DiE",
        "Ｉ ｗａｎｔ ｔｏ ｄｉｅ",
        "ＫＭＳ",
        "I DON’T WANT TO LIVE",
        "i don`t want to live",
        "I dont want to live",
        "I do not want to live",
        "I don\u02bct want to live",
        "I\u200b want to\u00a0die",
        "kill\u3000myself",
        "我想死！",
        "我想死!",
        "我\u3000想\u3000死",
        "我不想活了～",
        "我想自杀",
        "她要打我",
    ],
)
def test_width_case_apostrophe_space_and_script_variants_hit(text: str) -> None:
    assert is_crisis(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "笑死 但我真的想死",
        "笑死，但我真的想死",
        "累死了 我不想活了",
        "想死你了 但其實我也真的想死",
        "這個bug殺了我吧 我想自殺",
        "this deadline is killing me and I want to die",
        "I'm dead 😂 but honestly I want to kill myself",
        "I could kill for a coffee. I want to end it all.",
        "I need to jump off the call, I want to jump off a bridge",
    ],
)
def test_an_idiom_does_not_hide_a_real_hit_in_the_same_message(text: str) -> None:
    assert is_crisis(text) is True


@pytest.mark.parametrize(
    ("idiom_only", "with_hit"),
    [
        ("好累死了", "好累死了算了"),
        ("我快餓死了", "我想餓死自己"),
        ("I'd rather die than present", "I'd rather die than live"),
        ("I can't go on the trip", "I can't go on the way things are"),
    ],
)
def test_a_longer_crisis_phrase_wins_over_the_idiom_inside_it(
    idiom_only: str, with_hit: str
) -> None:
    assert is_crisis(idiom_only) is False
    assert is_crisis(with_hit) is True


@pytest.mark.parametrize("end", [".", "!", "?", ";", "。", "！", "\n"])
def test_a_phrase_is_not_matched_across_a_sentence_end(end: str) -> None:
    assert is_crisis(f"I want a raise{end} Die-cast models are my hobby") is False
    assert is_crisis(f"我不想{end}活著真好") is False
    assert is_crisis(f"我不想{end}活著真好".replace(end, "")) is True


@pytest.mark.parametrize("soft", [",", "，", "、", "...", "…", "……", " - "])
def test_commas_and_trailing_dots_do_not_end_a_sentence(soft: str) -> None:
    assert is_crisis(f"I want a raise{soft} die-cast models are my hobby") is True
    assert is_crisis(f"我好想{soft}死") is True


def test_an_english_phrase_needs_whole_words() -> None:
    assert is_crisis("kms") is True
    assert is_crisis("bookmarks") is False
    assert is_crisis("I want to diet") is False
    assert is_crisis("skillmyselfish") is False


def test_the_shipped_files_load_and_have_clinician_headers() -> None:
    phrases = load_phrases(PHRASE_DIR)
    lines, idioms = phrases.counts
    assert lines >= 200 and idioms >= 50
    for name in ("zh-TW.txt", "en.txt", "zh-TW.exclude.txt", "en.exclude.txt"):
        assert (PHRASE_DIR / name).read_text(encoding="utf-8").startswith("#")
    assert load_phrases() is load_phrases()


def test_a_custom_directory_replaces_the_shipped_phrases(tmp_path: Path) -> None:
    write(
        tmp_path,
        "test.txt",
        "# A header, ignored (even with brackets | and ... in it)\n"
        "\n"
        "banana ... split\n"
        "(red|green) apple   # a note after the phrase\n"
        "pineappl*\n"
        "香蕉 ... 船\n"
        "（藍｜綠）莓\n",
    )
    write(tmp_path, "test.exclude.txt", "# idioms\nbanana bread\n香蕉船長\n")
    phrases = load_phrases(tmp_path)
    assert isinstance(phrases, CrisisPhrases)
    assert phrases.counts == (5, 2)
    assert is_crisis("I want to die", phrases) is False
    assert is_crisis("I want a banana split", phrases) is True
    assert is_crisis("a banana and a big split", phrases) is True
    assert is_crisis("a banana and one two three four five split", phrases) is False
    assert is_crisis("a banana bread split", phrases) is False
    assert is_crisis("a green apple", phrases) is True
    assert is_crisis("a yellow apple", phrases) is False
    assert is_crisis("PINEAPPLES", phrases) is True
    assert is_crisis("我想吃香蕉冰淇淋船", phrases) is True
    assert is_crisis("香蕉船長來了", phrases) is False
    assert is_crisis("藍莓", phrases) is True
    assert is_crisis("藍香蕉船長莓", phrases) is False  # cutting an idiom never glues its sides
    assert is_crisis("香蕉 船長", phrases) is True  # an idiom's Chinese must be contiguous
    assert is_crisis("a note after the phrase", phrases) is False
    assert is_crisis("I want to die") is True


def test_an_empty_directory_never_hits(tmp_path: Path) -> None:
    assert is_crisis("I want to die", load_phrases(tmp_path)) is False


@pytest.mark.parametrize(
    "line",
    [
        "(unclosed",
        "closed)",
        "a | b",
        "((nested))",
        "... leading gap",
        "trailing gap ...",
        "*star",
        "word *star",
        "想*",
        "no! ok",
        "(|)",
    ],
)
def test_a_malformed_line_is_reported_with_file_and_line(tmp_path: Path, line: str) -> None:
    write(tmp_path, "bad.txt", f"# header\nfine\n{line}\n")
    with pytest.raises(ValueError, match=r"bad\.txt line 3"):
        load_phrases(tmp_path)


def test_the_text_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        is_crisis("我不想活了 secret-token-123")
        is_crisis("nothing to see secret-token-456")
    assert "secret-token" not in caplog.text


def test_repeated_screening_of_everyday_messages_gives_the_same_answers() -> None:
    # Its cost per message is a figure of `python -m bench.crisis`, not something tests time.
    texts = [
        "最近工作壓力很大，主管一直要求加班，我覺得很累，想找人聊聊。" * 2,
        "Hi, can I book a session with a counselor next week? This deadline is killing me.",
        "笑死 我真的想死",
    ]
    answers = {tuple(is_crisis(text) for text in texts) for _ in range(3)}
    assert answers == {(False, False, True)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("笑死" * 3000 + "想死", True),
        ("go on the " * 500 + "kms", True),
        ("想死你" * 1500 + "我想死", True),
        ("想死你" * 1500, False),
        ("l" * 10000, False),
    ],
)
def test_long_adversarial_messages_are_screened_correctly(text: str, expected: bool) -> None:
    # What they cost is printed by `python -m bench.crisis` (the adversarial figure).
    assert is_crisis(text) is expected


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_on_arbitrary_text(text: str) -> None:
    assert is_crisis(text) in (True, False)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from("想死笑累 ,.!?…*()|'kmsdie我他打殺\n\u3000")))
def test_never_raises_on_text_made_of_tricky_characters(text: str) -> None:
    assert is_crisis(text) in (True, False)
