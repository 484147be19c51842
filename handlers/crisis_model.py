"""The learned half of the crisis screen: repair spelling, count n-grams, score four classes."""

from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MODEL_DIR = Path(__file__).with_name("crisis_model")
MODEL_PATH = MODEL_DIR / "model.json"
KINDS = ("none", "self", "others-danger", "third-party")
CJK_NGRAMS = (1, 2)
LATIN_NGRAMS = (2, 3, 4)
SHORT_UNITS = 3  # a text this short is judged by the clinician phrases, not by the model alone

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_BOPOMOFO = "\u3100-\u312f\u31a0-\u31bf"
_TONES = "ˇˊˋ˙"
_APOSTROPHES = "'’‘‛ʼ`´′＇"
# Latin look-alikes from Cyrillic and Greek ("tooк" with a Cyrillic k).
_HOMOGLYPHS = str.maketrans(
    "авеёкмнорстухіјѕԁαβεικνορτυχ",
    "abeekmhopctyxijsdabeikvoptux",
)
# Bopomofo typed for a sentence-final particle after a Chinese character (好累ㄌ, 真ㄉ).
_PARTICLES = {"ㄌ": "了", "ㄉ": "的", "ㄚ": "啊", "ㄇ": "嗎", "ㄅ": "吧", "ㄋ": "呢", "ㄑ": "去"}
# (pattern, replacement) applied in order to Traditional, lower-case text.
_ZH_FIXES = [
    (r"自[剎刹沙紗][ㄕ]?|自[ㄕㄙ][ㄚ]?|自[a-z*]殺|紫砂", "自殺"),
    (r"(?<![0-9])4\s*[一1]\s*4(?![0-9])", "死一死"),
    (
        r"(想|去|要|會|該)\s*(?:屎|ㄙ|si(?![a-z])|4(?!\s*[0-9a-z點号號月樓個天次年歲人份張小分塊元百千萬週周間家位台部件級趟期層]))",
        r"\1死",
    ),
    (r"(?<![0-9])447(?![0-9])", "死死去"),
    (r"(?<![0-9])7414(?![0-9])", "去死一死"),
    (r"(?<![0-9])4(?=掉|了啦|一死)", "死"),
    (r"消ㄕ", "消失"),
    (r"輕身|[清青]生(?=的?念頭|了|算了)", "輕生"),
    (r"割[碗婉晚脘]", "割腕"),
    (r"([跳頂])[摟婁簍]", r"\1樓"),
    (r"(?<!氧化)(?<![減低含脫零控])碳(?![排足中權費纖水酸粉化])", "炭"),
    (r"葯", "藥"),
    (r"自\s*sha(?![a-z])|(?<![a-z])zi\s?sha(?![a-z])", "自殺"),
    (r"(?<![a-z])(?:wo )?xiang\s?si(?![a-z])", "我想死"),
    (r"(?<=[\u4e00-\u9fff])惹(?=[\s,.!?~，。！？…]|$)", "了"),
]
_ZH_FIXES_RE = [(re.compile(p), r) for p, r in _ZH_FIXES]
_DIE_TYPO_RE = re.compile(r"\b(to|2|gonna|wanna) (?:dei|dye)\b(?! (?:my|her|his|the|it|them)\b)")
_SEGMENT_WORDS = set(
    "i im a am to want wanna gonna going kill myself my self die dead end it all cut jump help me"
    " hurt suicide life live alive he she will tonight now pills rope knife hang bye goodbye"
    " someone is following hitting hit you can not cant do this anymore".split()
)
_LEET_WORDS = {"die", "dead", "kill", "kms", "myself", "suicide", "pills", "cut", "hang", "jump"}
_LEET_WORDS |= {"dying", "alive", "unalive", "life", "live", "knife", "rope", "overdose"}
_UNALIVE_RE = re.compile(r"\bun[ \-_.]+aliv")
_KEY_WORDS = ("suicide", "suicidal", "myself", "overdose", "goodbye", "tonight", "anymore")
# Taiwan's usual forms of variant characters, and 她/妳 folded into 他/你.
_TAIWAN_VARIANTS = ("她妳裏着爲麽衆綫臺喫", "他你裡著為麼眾線台吃")
_LEET = str.maketrans("013457@$!*", "oieastasii")
_LEET_L = str.maketrans("013457@$!*", "oleastasii")

_SPACED_LETTERS_RE = re.compile(r"(?<![a-z0-9])[a-z](?:[ .\-_*·/]{1,2}[a-z](?![a-z0-9])){2,}")
_CJK_SPACE_RE = re.compile(f"(?<=[{_CJK}])[ \t\u3000]+(?=[{_CJK}])")
_IS_CJK_RE = re.compile(f"[{_CJK}]")
_CJK_DOTTED_RE = re.compile(f"[{_CJK}](?:[.·・\\-_*~/、]+[{_CJK}]){{2,}}")
_CJK_STAR_RE = re.compile(f"(?<=[{_CJK}])[*_~/·]+(?=[{_CJK}])")
_LEET_RE = re.compile(r"(?<=[a-z])[0-9@$!*]+(?=[a-z])")
_WORD_RE = re.compile(r"[a-z0-9]+")
_RUN_RE = re.compile(r"([a-z])\1\1+")
_DOUBLE_RE = re.compile(r"([a-z])\1")
_EMOJI_IN_WORD_RE = re.compile(r"(?<=[a-z])[\U0001f300-\U0001faff\u2600-\u27bf]+(?=[a-z])")
_PARTICLE_RE = re.compile(f"(?<=[{_CJK}])[ㄌㄉㄚㄇㄅㄋㄑ](?![{_BOPOMOFO}])")
_SEPARATOR_RE = re.compile(r"[^a-z0-9" + _CJK + r"]+")
_TOKEN_RE = re.compile(f"[a-z0-9]+|[{_CJK}{_BOPOMOFO}]+|[\U0001f300-\U0001faff\u2600-\u27bf]")
_UNIT_RE = re.compile(f"[a-z0-9]+|[{_CJK}]")
_BREAK_RE = re.compile(r"[.!?;。！？；\n\r]+")


def _fold_width(text: str) -> str:
    """NFKC (full-width letters), case, apostrophes, look-alike letters and tone marks."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = text.translate(_HOMOGLYPHS).translate(variant_table())
        text = "".join(c for c in text if c not in _APOSTROPHES and c not in _TONES)
        text = "".join(c for c in text if unicodedata.category(c) not in ("Mn", "Cf"))
    else:
        text = text.replace("'", "").replace("`", "")
    return text.lower()


def _join_letters(match: re.Match[str]) -> str:
    """s u i c i d e, k.i.l.l, d-i-e: one word again (k i l l m y s e l f: two)."""
    joined = re.sub(r"[^a-z]", "", match.group())
    return " ".join(_segment(joined)) if len(joined) > 6 else joined


def _segment(letters: str) -> list[str]:
    """Letters split into the fewest known words, or left whole when they cannot be."""
    best: list[list[str] | None] = [[]] + [None] * len(letters)
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - 8), end):
            head = best[start]
            if head is not None and letters[start:end] in _SEGMENT_WORDS:
                if best[end] is None or len(head) + 1 < len(best[end]):
                    best[end] = [*head, letters[start:end]]
    return best[-1] or [letters]


def _join_characters(match: re.Match[str]) -> str:
    """自.殺.的.念.頭: the characters without their separators."""
    return re.sub(f"[^{_CJK}]", "", match.group())


def _join_spaced_character(match: re.Match[str]) -> str:
    """Drop a space between Chinese characters when one side is a lone character (想 死).

    Spaces between longer runs stay: "我想死 線上會議" must not become "...死線..." (deadline).
    """
    text, start, end = match.string, match.start(), match.end()
    lone_left = start < 2 or not _IS_CJK_RE.match(text[start - 2])
    lone_right = end + 1 >= len(text) or not _IS_CJK_RE.match(text[end + 1])
    return "" if lone_left or lone_right else match.group()


def _fix_word(match: re.Match[str]) -> str:
    """One English word with leetspeak and known misspellings repaired."""
    word = match.group()
    spelling = _spelling()
    if word in spelling:
        return spelling[word]
    if not word.isalpha():
        for table in (_LEET, _LEET_L):
            if (unleet := word.translate(table)) in _LEET_WORDS:
                return unleet
        return word
    if (single := _DOUBLE_RE.sub(r"\1", word)) != word and single in _LEET_WORDS:
        return single  # diie, kiill: a stretched key word
    if len(word) >= 5 and word not in _KEY_WORDS:
        word = _near_key_words().get(word, word)
    if len(word) >= 7 and word not in _SEGMENT_WORDS:
        words = _segment(word)  # iwanttodie, killmyself: words run together
        return " ".join(words) if len(words) > 1 else word
    return word


def repair(text: str) -> str:
    """Fold width, case, script, spacing tricks, leetspeak and misspelt key words."""
    text = _fold_width(text)
    text = _UNALIVE_RE.sub("unaliv", _SPACED_LETTERS_RE.sub(_join_letters, text))
    text = _EMOJI_IN_WORD_RE.sub("i", text)  # k💀ll: an emoji standing in for a letter
    text = _LEET_RE.sub(lambda m: m.group().translate(_LEET), text)
    text = _RUN_RE.sub(r"\1\1", text)
    text = _DIE_TYPO_RE.sub(r"\1 die", _WORD_RE.sub(_fix_word, text))
    if re.search(f"[{_CJK}{_BOPOMOFO}]|xiang|sha", text) is None:
        return text
    text = _CJK_SPACE_RE.sub(_join_spaced_character, text)
    text = _CJK_DOTTED_RE.sub(_join_characters, text)
    text = _CJK_STAR_RE.sub("", text)
    for pattern, replacement in _ZH_FIXES_RE:
        text = pattern.sub(replacement, text)
    return _PARTICLE_RE.sub(lambda m: _PARTICLES[m.group()], text)


def is_short(repaired: str) -> bool:
    """At most SHORT_UNITS words or Chinese characters: too little for the model alone."""
    return len(_UNIT_RE.findall(repaired)) <= SHORT_UNITS


def features(text: str) -> set[str]:
    """The model's features of a text: CJK n-grams, English words, word pairs, letter n-grams."""
    return ngrams(repair(text))


def ngrams(repaired: str) -> set[str]:
    """The features of a text that `repair` has already folded."""
    found: set[str] = set()
    for sentence in _BREAK_RE.split(repaired):
        previous = ""
        for token in _TOKEN_RE.findall(sentence):
            if token[0].isascii():
                found.add("w:" + token)
                if previous:
                    found.add(f"b:{previous} {token}")
                padded = f"<{token}>"
                for n in LATIN_NGRAMS:
                    found.update("l:" + padded[i : i + n] for i in range(len(padded) - n + 1))
                previous = token
            elif len(token) == 1 and not re.match(f"[{_CJK}{_BOPOMOFO}]", token):
                found.add("e:" + token)
            else:
                for n in CJK_NGRAMS:
                    found.update("z:" + token[i : i + n] for i in range(len(token) - n + 1))
                previous = ""
    return found


@cache
def variant_table() -> dict[int, int]:
    """Simplified characters mapped to their Traditional (Taiwan) forms."""
    data = json.loads((MODEL_DIR / "variants.json").read_text(encoding="utf-8"))
    table = str.maketrans(data["simplified"], data["traditional"])
    table.update(str.maketrans(*_TAIWAN_VARIANTS))
    return table


@cache
def _spelling() -> dict[str, str]:
    """Misspellings and chat spellings of key words, from spelling.txt."""
    spelling = {}
    for line in (MODEL_DIR / "spelling.txt").read_text(encoding="utf-8").splitlines():
        wrong, _, right = line.split("#", 1)[0].strip().partition(" ")
        if wrong and right.strip() and right.strip() != wrong:
            spelling[wrong] = right.strip()
    return spelling


@cache
def _near_key_words() -> dict[str, str]:
    """Every spelling one edit away from a key word (dropped, added, swapped or wrong letter)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    near: dict[str, str] = {}
    for word in _KEY_WORDS:
        splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        edits |= {a + c + b[1:] for a, b in splits if b for c in letters}
        edits |= {a + c + b for a, b in splits for c in letters}
        for edit in edits - {word}:
            near.setdefault(edit, word)
    return near


@dataclass(frozen=True)
class Scores:
    """What the model makes of one text: how likely a crisis is, and whose."""

    risk: float  # probability that the text belongs to a crisis class
    kind: str  # self, others-danger or third-party: the likeliest kind of crisis


@dataclass(frozen=True)
class CrisisModel:
    """A multinomial logistic regression over idf-weighted n-grams, with its thresholds."""

    classes: tuple[str, ...]  # corpus categories, e.g. plans, third-party, figurative
    kinds: tuple[str, ...]  # each class's kind: none, self, others-danger or third-party
    idf_squared: dict[str, float]  # every known feature
    weights: dict[str, tuple[float, ...]]  # weight × idf per class, for features that matter
    unseen_idf: float
    bias: tuple[float, ...]
    crisis_threshold: float
    concern_threshold: float
    phrase_threshold: float
    phrase_concern_threshold: float

    def _scale(self, found: set[str]) -> float:
        """One over the length of a message's idf vector."""
        unseen = self.unseen_idf * self.unseen_idf
        total = sum(self.idf_squared.get(feature, unseen) for feature in found)
        return 1 / math.sqrt(total) if total else 0.0

    def _logits(self, found: set[str]) -> list[float]:
        """The raw score of each class for a set of features."""
        rows = [row for feature in found if (row := self.weights.get(feature)) is not None]
        if not rows:
            return list(self.bias)
        scale = self._scale(found)
        columns = zip(*rows, strict=True)
        return [b + sum(column) * scale for b, column in zip(self.bias, columns, strict=True)]

    def probabilities(self, text: str, *, repaired: str | None = None) -> dict[str, float]:
        """The probability of each class for a text (pass `repaired` if already folded)."""
        logits = self._logits(ngrams(repaired if repaired is not None else repair(text)))
        top = max(logits)
        exps = [math.exp(logit - top) for logit in logits]
        total = sum(exps)
        return {name: e / total for name, e in zip(self.classes, exps, strict=True)}

    def score(self, text: str, *, repaired: str | None = None) -> Scores:
        """The crisis probability of a text, and the kind of its likeliest crisis class.

        The kind comes from the single likeliest class, not from adding classes up by kind:
        self has seven classes and would win every close call.
        """
        probabilities = self.probabilities(text, repaired=repaired).values()
        crisis = [(p, kind) for p, kind in zip(probabilities, self.kinds, strict=True)]
        crisis = [(p, kind) for p, kind in crisis if kind != "none"]
        return Scores(risk=sum(p for p, _ in crisis), kind=max(crisis)[1])

    def explain(self, text: str, *, top: int = 10) -> list[tuple[str, float]]:
        """The features that push a text most towards (+) or away from (-) a crisis class."""
        found = features(text)
        scale = self._scale(found)
        crisis = [i for i, kind in enumerate(self.kinds) if kind != "none"]
        ordinary = [i for i, kind in enumerate(self.kinds) if kind == "none"]
        pushes = []
        for feature in found:
            if (row := self.weights.get(feature)) is not None:
                push = max(row[i] for i in crisis) - max(row[i] for i in ordinary)
                pushes.append((feature, round(push * scale, 4)))
        return sorted(pushes, key=lambda p: (-abs(p[1]), p[0]))[:top]


def model_from_json(data: dict) -> CrisisModel:
    """A model from the dictionary that `crisis train` writes."""
    thresholds = data["thresholds"]
    classes = tuple(data["classes"])
    scale = data["scale"]
    weights = data["weights"]
    return CrisisModel(
        classes=classes,
        kinds=tuple(data["kinds"][name] for name in classes),
        idf_squared={feature: (row[0] / scale) ** 2 for feature, row in weights.items()},
        weights={f: tuple(w / scale for w in row[1:]) for f, row in weights.items() if row[1:]},
        unseen_idf=data["unseen_idf"] / scale,
        bias=tuple(b / scale for b in data["bias"]),
        crisis_threshold=thresholds["crisis"],
        concern_threshold=thresholds["concern"],
        phrase_threshold=thresholds["phrase"],
        phrase_concern_threshold=thresholds["phrase_concern"],
    )


@cache
def load_model(path: Path = MODEL_PATH) -> CrisisModel:
    """The shipped model, read once per process."""
    return model_from_json(json.loads(path.read_text(encoding="utf-8")))
