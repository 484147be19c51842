"""The labelled crisis corpus: well-formed, big enough, no test message leaked into training."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

import pytest

from handlers.crisis_model import repair

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "crisis"
PARTS = ("train", "test")
LANGUAGES = ("zh-TW", "en")
CRISIS = ("plans", "goodbyes", "hopelessness", "coded", "self-harm", "others-danger")
CRISIS += ("third-party", "garbled")
ORDINARY = ("figurative", "venting", "tech", "grief", "health", "service", "prevention")
KINDS = ("self", "others-danger", "third-party")
MINIMUM_TOTAL = 1500
MINIMUM_PER_CELL = 40  # messages per category, language and part
NEAR = 0.8  # character-trigram Jaccard at which two messages count as the same one
_NOT_WORD = re.compile(r"[\W_]+")


@cache
def rows(part: str, language: str) -> list[dict]:
    """The parsed lines of one corpus file."""
    path = CORPUS / part / f"{language}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def problems(row: dict, *, part: str) -> list[str]:
    """What is wrong with one corpus line, if anything."""
    allowed = {"text", "category", "tier", "kind"} | ({"hard_case"} if part == "train" else set())
    found = [f"unknown key {key}" for key in set(row) - allowed]
    found += [f"missing key {key}" for key in {"text", "category", "tier", "kind"} - set(row)]
    if found:
        return found
    category, tier, kind = row["category"], row["tier"], row["kind"]
    if not isinstance(row["text"], str) or not row["text"].strip():
        found.append("empty text")
    if category in ORDINARY:
        expected_kinds: tuple[str, ...] = ("none",)
        found += [] if tier == "none" else ["an ordinary category must have tier none"]
    elif category in CRISIS:
        expected_kinds = KINDS if category == "garbled" else (KINDS[0],)
        if category in ("others-danger", "third-party"):
            expected_kinds = (category,)
        found += [] if tier == "crisis" else ["a crisis category must have tier crisis"]
    else:
        return [f"unknown category {category}"]
    if kind not in expected_kinds:
        found.append(f"kind {kind} does not fit category {category}")
    if row.get("hard_case", False) is not True and "hard_case" in row:
        found.append("hard_case, when present, is true")
    return found


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_line_is_a_valid_labelled_message(part: str, language: str) -> None:
    path = CORPUS / part / f"{language}.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    bad = [
        f"{path.name}:{number}: {problem}"
        for number, line in enumerate(lines, start=1)
        for problem in problems(json.loads(line), part=part)
    ]
    assert bad == []


def test_the_corpus_is_big_enough() -> None:
    assert sum(len(rows(p, language)) for p in PARTS for language in LANGUAGES) >= MINIMUM_TOTAL


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_category_has_enough_messages(part: str, language: str) -> None:
    counts = Counter(row["category"] for row in rows(part, language))
    short = {c: counts[c] for c in (*CRISIS, *ORDINARY) if counts[c] < MINIMUM_PER_CELL}
    assert short == {}


def fingerprint(text: str) -> str:
    """A message with spelling, width, script and punctuation folded away."""
    return _NOT_WORD.sub("", repair(text))


def trigrams(text: str) -> frozenset[str]:
    """The character trigrams of a fingerprint (the whole of a short one)."""
    if len(text) < 3:
        return frozenset({text})
    return frozenset(text[i : i + 3] for i in range(len(text) - 2))


def near_duplicates(train: list[str], test: list[str]) -> list[tuple[str, str]]:
    """Pairs (train, test) with equal fingerprints or trigram Jaccard of at least NEAR."""
    index: dict[str, list[int]] = defaultdict(list)
    train_grams = [trigrams(fingerprint(text)) for text in train]
    for i, grams in enumerate(train_grams):
        for gram in grams:
            index[gram].append(i)
    pairs = []
    for text in test:
        grams = trigrams(fingerprint(text))
        shared: Counter[int] = Counter(i for gram in grams for i in index.get(gram, ()))
        for i, common in shared.items():
            union = len(grams) + len(train_grams[i]) - common
            if common / union >= NEAR:
                pairs.append((train[i], text))
    return pairs


def test_the_near_duplicate_check_catches_rewrites() -> None:
    train = ["I want to kill myself tonight!", "我 想 自殺", "the build died again"]
    test = ["i want to kill myself tonight", "我想自杀", "ordinary question about leave"]
    assert [pair[0] for pair in near_duplicates(train, test)] == train[:2]


def test_no_test_message_has_a_near_duplicate_in_training() -> None:
    train = [row["text"] for language in LANGUAGES for row in rows("train", language)]
    test = [row["text"] for language in LANGUAGES for row in rows("test", language)]
    assert near_duplicates(train, test) == []


def _git(*args: str) -> str:
    """The output of a git command in the repository."""
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_test_part_was_frozen_before_the_model_existed() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    test_files = [str(CORPUS / "test" / f"{language}.jsonl") for language in LANGUAGES]
    added = _git("log", "--diff-filter=A", "--format=%H", "--", *test_files).splitlines()
    if not added:
        pytest.skip("the test part is not committed in this checkout (a shallow clone?)")
    model = str(ROOT / "handlers" / "crisis_model" / "model.json")
    for commit in _git("log", "--diff-filter=A", "--format=%H", "--", model).splitlines():
        ancestor = subprocess.run(
            ["git", "merge-base", "--is-ancestor", added[-1], commit], cwd=ROOT
        )
        assert ancestor.returncode == 0, f"model.json was added in {commit} before the test part"
    unchanged = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", *test_files], cwd=ROOT)
    assert unchanged.returncode == 0, "the frozen test part has uncommitted changes"
