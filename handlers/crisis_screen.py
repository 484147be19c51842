"""The crisis screen: does an inbound text sound like a crisis? Pure Python, never logs text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import product
from math import prod
from pathlib import Path

from handlers.crisis_model import CrisisModel, is_short, load_model, repair, variant_table

PHRASE_DIR = Path(__file__).with_name("crisis_phrases")
EXCLUDE_SUFFIX = ".exclude.txt"
CHAR_GAP = 5  # `...` between Chinese (or mixed) text: up to this many characters
WORD_GAP = 4  # `...` between two English words: up to this many words
MAX_VARIANTS = 5000  # per line, after expanding every (a|b) group
REACH = 80  # how far before an idiom a crisis phrase that contains it may start

_TRUNC = "\ue000"  # private-use placeholders for `*` and `...` while a phrase is normalised
_GAP = "\ue001"
_BREAK = "\n"  # sentence breaks, and what an idiom exclusion is replaced with
_COMMA = ","  # crisis phrases may run across a comma; idioms may not
_APOSTROPHES = "'’‘‛ʼ`´′＇"
_HARD_BREAKS = "\n\r\x0b\x0c\x85\u2028\u2029.。！？!?;；｡"
_COMMAS = ",、､﹐﹑"
_ENDINGS = set("abcdefghijklmnopqrstuvwxyz0123456789")  # what a * ending may stand for
_END = ""  # trie key marking the end of a phrase; no atom is empty
_NEVER = re.compile(r"(?!)")

# Simplified forms of characters that occur in crisis phrases and idioms, plus 她/妳 → 他/你.
_VARIANTS = dict(
    zip(
        "杀药楼结烧伤绝离开这个没会对说后为么样们还过着让谁气饿热烦几亲妈爷吗轻尽无义见遗书别"
        "恶难撑压钱债溃边脑头丢脸梦觉实从时间价机线网发现点乐罢缢悬断厌吓骂强医帮话电记贷输赌"
        "废该应当给终脱够愿决问题负担赘与儿买卖尸体灵坠毁灭报枪弹车轨卧剑忧郁紧诉听谢处刽纵跃"
        "她妳裏着爲麽衆綫臺喫",
        "殺藥樓結燒傷絕離開這個沒會對說後為麼樣們還過著讓誰氣餓熱煩幾親媽爺嗎輕盡無義見遺書別"
        "惡難撐壓錢債潰邊腦頭丟臉夢覺實從時間價機線網發現點樂罷縊懸斷厭嚇罵強醫幫話電記貸輸賭"
        "廢該應當給終脫夠願決問題負擔贅與兒買賣屍體靈墜毀滅報槍彈車軌臥劍憂鬱緊訴聽謝處劊縱躍"
        "他你裡著為麼眾線台吃",
        strict=True,
    )
)

# Every other simplified character too (OpenCC's table, shipped in crisis_model/variants.json).
_VARIANTS = {chr(code): chr(char) for code, char in variant_table().items()} | _VARIANTS

# Spellings folded to one form in texts and phrases alike, so one phrase covers them all.
_CANONICAL = {
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "cant": "can not",
    "cannot": "can not",
    "wont": "will not",
    "wouldnt": "would not",
    "couldnt": "could not",
    "shouldnt": "should not",
    "isnt": "is not",
    "arent": "are not",
    "wasnt": "was not",
    "werent": "were not",
    "havent": "have not",
    "hasnt": "has not",
    "aint": "am not",
    "im": "i am",
    "i m": "i am",
    "ive": "i have",
    "id": "i would",
    "youre": "you are",
    "hes": "he is",
    "shes": "she is",
    "theyre": "they are",
    "whats": "what is",
    "thats": "that is",
    "theres": "there is",
    "wanna": "want to",
    "wana": "want to",
    "wnat": "want",
    "gonna": "going to",
    "gona": "going to",
    "gotta": "got to",
    "imma": "i am going to",
    "ima": "i am going to",
    "u": "you",
    "ur": "your",
    "r": "are",
    "2": "to",
    "urself": "yourself",
    "ourself": "yourself",
    "myslef": "myself",
    "mysef": "myself",
    "my self": "myself",
    "any more": "anymore",
    "some one": "someone",
    "some body": "somebody",
    "every one": "everyone",
    "noone": "no one",
}
_SEPARATORS_RE = re.compile(r"[ ,\n]{2,}")
_LETTER_RE = re.compile("[a-z]")
_LETTER_RUN_RE = re.compile(r"([a-z])\1\1+")
_DOTS_RE = re.compile(r"\.{3,}|…+")
_ELLIPSIS_RE = re.compile(r"\.{2,}|[…‥]+")  # trailing off is not the end of a sentence
_GROUP_RE = re.compile(r"\(([^()]*)\)")
_GAP_SPACES_RE = re.compile(f" ?{_GAP}[ {_GAP}]*")
_MULTI_SPACE_RE = re.compile(" {2,}")
_LOOSE_SPACE_RE = re.compile(f"(?<=[^a-z0-9{_TRUNC} ]) | (?=[^a-z0-9 ])")  # spaces only part words
_OPTIONAL_SEPARATORS = ("[ ,]?", " ?")


def _fold_char(char: str) -> str:
    """What one character becomes once width, case, punctuation and variants are folded."""
    if char in _APOSTROPHES:
        return ""
    if char in _HARD_BREAKS:
        return _BREAK
    if char in _COMMAS:
        return _COMMA
    category = unicodedata.category(char)
    if category[0] in "PZ" or category in ("Sm", "Sk", "Sc", "Cc"):
        return " "
    if category in ("Cf", "Mn", "Me"):
        return ""
    return _VARIANTS.get(char, char)


def _build_table() -> dict[int, str]:
    """Every BMP character that folding changes, mapped to what it becomes (NFKC included)."""
    table = {}
    for code in range(0x10000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        if char in _APOSTROPHES:
            folded = ""
        else:
            folded = "".join(map(_fold_char, unicodedata.normalize("NFKC", char).casefold()))
        if folded != char:
            table[code] = folded
    return table


def _canonical_pattern() -> re.Pattern[str]:
    """Whole-word spellings to fold; the leading guard makes mid-word positions cheap."""
    keys = "|".join(map(re.escape, sorted(_CANONICAL, key=len, reverse=True)))
    return re.compile(f"(?<![a-z0-9])(?:{keys})(?![a-z0-9])")


_TABLE = _build_table()
_MAPPED_RE = re.compile("[" + re.escape("".join(map(chr, sorted(_TABLE)))) + "]")
_CANONICAL_RE = _canonical_pattern()


def _collapse(match: re.Match[str]) -> str:
    """A run of separators becomes its strongest member: break, then comma, then space."""
    run = match.group()
    return _BREAK if _BREAK in run else _COMMA if _COMMA in run else " "


def _canonical(match: re.Match[str]) -> str:
    """The folded spelling of one contraction or chat abbreviation."""
    return _CANONICAL[match.group()]


def _mapped(match: re.Match[str]) -> str:
    """What one punctuation mark, invisible or variant character becomes."""
    return _TABLE[ord(match.group())]


def normalise(text: str) -> str:
    """Fold width, case, apostrophes, punctuation, spacing and spelling variants for matching."""
    if "." in text or "…" in text or "‥" in text:
        text = _ELLIPSIS_RE.sub(" ", text)
    if text.isascii():
        text = text.lower().translate(_TABLE)
    else:
        if max(text) > "\uffff":  # fancy-font letters and the like: fold them the slow way
            text = unicodedata.normalize("NFKC", text.replace("´", ""))
        text = _MAPPED_RE.sub(_mapped, text.casefold())
    text = _SEPARATORS_RE.sub(_collapse, text).strip(" ,\n")
    if _LETTER_RE.search(text) is None:
        return text
    # Runs of three or more letters shrink to two; phrases accept any stretch ("dieeee").
    return _CANONICAL_RE.sub(_canonical, _LETTER_RUN_RE.sub(r"\1\1", text))


def _is_word(char: str) -> bool:
    """An ASCII letter or digit: the characters English word boundaries care about."""
    return char.isascii() and char.isalnum()


def _is_tight(char: str) -> bool:
    """A non-ASCII letter (Chinese and the like): exclusions keep these contiguous."""
    return not char.isascii() and unicodedata.category(char).startswith("L")


def _char_atoms(variant: str, *, exclusion: bool) -> list[list[str]]:
    """Regex pieces for each character of a normalised phrase, in order."""
    space = " " if exclusion else "[ ,]"
    word_gap = f"(?:{space}[^ ,\\n]+){{0,{WORD_GAP}}}{space}"
    char_gap = f"[^{',' if exclusion else ''}\\n]{{0,{CHAR_GAP}}}"
    result: list[list[str]] = []
    for i, char in enumerate(variant):
        prev = variant[i - 1] if i else ""
        nxt = variant[i + 1] if i + 1 < len(variant) else ""
        atoms: list[str] = []
        result.append(atoms)
        if char == _GAP:
            atoms.append(word_gap if _is_word(prev) and _is_word(nxt) else char_gap)
            continue
        if char == _TRUNC:
            atoms.append("[a-z0-9]*")
            continue
        if char == " ":
            required = (_is_word(prev) or prev == _TRUNC) and _is_word(nxt)
            atoms.append(space if required else space + "?")
            continue
        if char.isascii() and char.isalpha():
            boundary = "" if _is_word(prev) else f"(?<![a-z0-9]{char})"
            atoms.append(f"{char}{boundary}{char}*")
            if not _is_word(nxt) and nxt != _TRUNC:
                atoms.append("(?![a-z0-9])")
        else:
            atoms.append(re.escape(char))
        if nxt and nxt not in (" ", _GAP, _TRUNC) and not (_is_word(char) and _is_word(nxt)):
            if not (exclusion and _is_tight(char) and _is_tight(nxt)):
                atoms.append(space + "?")
    return result


def _piece(text: str) -> str:
    """One normalised literal part or choice of a line, keeping a space at either edge."""
    core = normalise(_DOTS_RE.sub(_GAP, text).replace("*", _TRUNC)).replace(_COMMA, " ")
    if _BREAK in core:
        raise ValueError("a phrase cannot contain . 。 ! ? ; (they end a sentence)")
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() and core else ""
    piece = _GAP_SPACES_RE.sub(_GAP, lead + core + trail)
    for i, char in enumerate(piece):
        if char == _TRUNC and i and not _is_word(piece[i - 1]):
            raise ValueError("* must follow an English word directly, as in overdos*")
    return _LOOSE_SPACE_RE.sub("", piece)


def _neighbours(elements: list[list[str]]) -> tuple[list[set[str]], list[set[str]]]:
    """Stand-ins for the characters that can come just before and just after each element."""
    n = len(elements)
    before: list[set[str]] = [{""}] + [set() for _ in range(n - 1)]
    after: list[set[str]] = [set() for _ in range(n - 1)] + [{""}]
    for i in range(n - 1):
        before[i + 1] = set().union(*({_class(c[-1])} if c else before[i] for c in elements[i]))
    for i in range(n - 1, 0, -1):
        after[i - 1] = set().union(*({_class(c[0])} if c else after[i] for c in elements[i]))
    return before, after


def _elements(line: str) -> list[list[str]]:
    """A line split into literal parts and (a|b) groups, each a list of normalised choices."""
    parts = _GROUP_RE.split(line)
    if any(c in part for part in parts[0::2] for c in "()|"):
        raise ValueError("brackets must come in pairs, not nested, and | only inside ( )")
    pieces = [
        list(dict.fromkeys(_piece(p) for p in (part.split("|") if i % 2 else [part])))
        for i, part in enumerate(parts)
    ]
    pieces = [choices for choices in pieces if choices != [""]]
    before, after = _neighbours(pieces)
    elements: list[list[str]] = []
    for i, choices in enumerate(pieces):
        last = elements[-1] if elements else []
        if choices == [" "]:
            if not before[i] & {"a", _TRUNC} or "a" not in after[i]:
                continue  # a space only matters between two English words
            if any(c.endswith(" ") for c in last):
                elements[-1] = [c if c.endswith(" ") else c + " " for c in last]
                continue
        if last == [" "] and any(not c or c.startswith(" ") for c in choices):
            elements.pop()
            choices = [c if c.startswith(" ") else " " + c for c in choices]
        elif elements and all(c.startswith(" ") for c in choices):
            elements[-1] = list(dict.fromkeys(c.rstrip(" ") for c in last))
        elements.append(choices)
    if elements:
        elements[0] = list(dict.fromkeys(c.lstrip(" ") for c in elements[0]))
        elements[-1] = list(dict.fromkeys(c.rstrip(" ") for c in elements[-1]))
    if prod(len(e) for e in elements) > MAX_VARIANTS:
        raise ValueError(f"more than {MAX_VARIANTS} combinations; split the line")
    return elements


def _check(variant: str) -> str:
    """One spelled-out phrase, or a ValueError saying what is wrong with it."""
    if not variant.strip(_GAP + _TRUNC + " "):
        raise ValueError("the phrase is empty")
    if variant[0] == _GAP or variant[-1] == _GAP:
        raise ValueError("... must stand between two words")
    for i, char in enumerate(variant):
        if char == _TRUNC and (i == 0 or not _is_word(variant[i - 1])):
            raise ValueError("* must follow an English word directly, as in overdos*")
    return variant


def _variants(elements: list[list[str]]) -> list[str]:
    """Every spelled-out phrase of a line."""
    joined = ("".join(combination) for combination in product(*elements))
    return [_check(_GAP_SPACES_RE.sub(_GAP, _MULTI_SPACE_RE.sub(" ", v).strip())) for v in joined]


class _ContextError(Exception):
    """A choice whose regex would depend on its neighbours: spell the line out instead."""


def _class(char: str) -> str:
    """A stand-in for a neighbouring character, as far as the regex of a choice cares."""
    if _is_word(char):
        return "a"
    if char in (_TRUNC, _GAP, " ", ""):
        return char
    return "中" if _is_tight(char) else "☃"


def _choice_atoms(elements: list[list[str]], *, exclusion: bool) -> list[list[list[str]]]:
    """Regex pieces of every choice, each computed once; _ContextError if neighbours matter."""
    if all(any(not c.strip(" " + _GAP) for c in choices) for choices in elements):
        raise _ContextError
    before, after = _neighbours(elements)
    edgy = {"", " ", _GAP}
    result = []
    for i, choices in enumerate(elements):
        per_choice = []
        for choice in choices:
            found: dict[tuple[str, ...], tuple[str, ...]] = {}
            for left in before[i] if choice else ():
                for right in after[i]:
                    if (
                        (choice[0] in edgy and left in edgy | {_TRUNC})
                        or (choice[-1] in edgy and right in edgy)
                        or (choice[0] == _TRUNC and left != "a")
                    ):
                        raise _ContextError
                    chars = _char_atoms(left + choice + right, exclusion=exclusion)
                    mine = chars[len(left) : len(left) + len(choice)]
                    atoms = tuple(atom for each in mine for atom in each)
                    # A trailing optional separator changes nothing at the end of a phrase.
                    key = atoms[:-1] if atoms and atoms[-1] in _OPTIONAL_SEPARATORS else atoms
                    found[key] = max(found.get(key, ()), atoms, key=len)
            if len(found) > 1:
                raise _ContextError
            per_choice.append(list(found.popitem()[1]) if found else [])
        result.append(per_choice)
    return result


def _line_patterns(elements: list[list[str]], *, exclusion: bool) -> list[list[str]]:
    """Atom lists for one line, groups kept as regex alternations, each starting with a literal."""
    try:
        chunks = _choice_atoms(elements, exclusion=exclusion)
    except _ContextError:
        return [
            [a for atoms in _char_atoms(v, exclusion=exclusion) for a in atoms]
            for v in _variants(elements)
        ]

    def tail(start: int) -> list[str]:
        """The rest of the line from one element on."""
        atoms: list[str] = []
        for choices in chunks[start:]:
            if len(choices) == 1:
                atoms += choices[0]
            else:
                ordered = sorted(("".join(c) for c in choices), key=len, reverse=True)
                atoms.append("(?:" + "|".join(ordered) + ")")
        return atoms

    def lead(start: int) -> list[list[str]]:
        """Spell out leading groups so that every pattern begins with a literal character."""
        patterns = []
        for choice in chunks[start]:
            patterns += [choice + tail(start + 1)] if choice else lead(start + 1)
        return patterns

    return lead(0)


def _read(path: Path, *, exclusion: bool) -> Iterator[tuple[set[str], list[list[str]]]]:
    """Each phrase line of a file as (its characters, atom lists); comments and blanks dropped."""
    for number, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        line = unicodedata.normalize("NFKC", raw).split("#", 1)[0].strip()
        if not line:
            continue
        try:
            elements = _elements(line)
            chars = {c for choices in elements for choice in choices for c in choice} - {" "}
            yield chars, _line_patterns(elements, exclusion=exclusion)
        except ValueError as error:
            raise ValueError(f"{path.name} line {number}: {error}: {raw.strip()!r}") from None


def _emit(node: dict, *, shortest: bool) -> str:
    """A regex for a trie node; `shortest` stops at the first complete phrase."""
    ends = _END in node
    children = sorted((atom, child) for atom, child in node.items() if atom != _END)
    if ends and (shortest or not children):
        return ""
    branches = [atom + _emit(child, shortest=shortest) for atom, child in children]
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if ends else body


def _compile(variants: list[list[str]], *, shortest: bool) -> re.Pattern[str]:
    """One pattern for many phrases, shaped as a trie so each position costs one lookup."""
    if not variants:
        return _NEVER
    root: dict = {}
    for atoms in variants:
        node = root
        for atom in atoms:
            node = node.setdefault(atom, {})
        node[_END] = {}
    return re.compile(_emit(root, shortest=shortest))


@dataclass(frozen=True, slots=True)
class CrisisPhrases:
    """Compiled crisis phrases and idiom exclusions, ready to screen texts."""

    hits: re.Pattern[str]
    word_hits: re.Pattern[str]
    exclusions: re.Pattern[str]
    plain_hits: tuple[tuple[re.Pattern[str], frozenset[str]], ...]
    counts: tuple[int, int]

    def matches(self, text: str) -> bool:
        """True when a crisis phrase occurs outside every idiom exclusion."""
        if not text:
            return False
        norm = normalise(text)
        return bool(norm) and self._hit(norm) and self._hit(self._without_idioms(norm))

    def _hit(self, norm: str) -> bool:
        """Whether any crisis phrase occurs in normalised text."""
        if self.hits.search(norm) is not None:
            return True
        return _LETTER_RE.search(norm) is not None and self.word_hits.search(norm) is not None

    def _without_idioms(self, norm: str) -> str:
        """The text with idioms cut out, unless a gapless crisis phrase wholly contains one."""
        pieces: list[str] = []
        last = 0
        candidates: dict[str, list[re.Pattern[str]]] = {}
        for match in self.exclusions.finditer(norm):
            start, end = match.span()
            idiom = match.group()
            if idiom not in candidates:
                letters = set(idiom) - {" ", ","}
                candidates[idiom] = [p for p, chars in self.plain_hits if letters <= chars]
            if not _covered(norm, start, end, candidates[idiom]):
                pieces += [norm[last:start], _BREAK]
                last = end
        return "".join(pieces) + norm[last:] if pieces else norm


def _covered(norm: str, start: int, end: int, patterns: list[re.Pattern[str]]) -> bool:
    """Whether one of the patterns matches a stretch of the text that spans start to end."""
    low, high = max(0, start - REACH), min(len(norm), end + REACH)
    for pattern in patterns:
        match = pattern.search(norm, low, high)
        while match is not None and match.start() <= start:
            if match.end() >= end:
                return True
            match = pattern.search(norm, match.start() + 1, high)
    return False


def load_phrases(directory: Path | None = None) -> CrisisPhrases:
    """Compile every *.txt in the directory: *.exclude.txt are idioms, the rest crisis phrases."""
    if directory is None:
        return _default_phrases()
    hits: list[list[str]] = []
    plain: list[tuple[re.Pattern[str], frozenset[str]]] = []
    exclusions: list[list[str]] = []
    lines = idioms = 0
    for path in sorted(Path(directory).glob("*.txt")):
        is_exclusion = path.name.endswith(EXCLUDE_SUFFIX)
        for chars, patterns in _read(path, exclusion=is_exclusion):
            if is_exclusion:
                exclusions += patterns
                idioms += 1
                continue
            hits += patterns
            lines += 1
            if _GAP not in chars:
                pattern = re.compile("|".join("".join(atoms) for atoms in patterns))
                endings = _ENDINGS if _TRUNC in chars else set()
                plain.append((pattern, frozenset(chars | endings)))
    words = [atoms for atoms in hits if atoms[0][0].isascii() and atoms[0][0].isalpha()]
    others = [atoms for atoms in hits if not (atoms[0][0].isascii() and atoms[0][0].isalpha())]
    return CrisisPhrases(
        hits=_compile(others, shortest=True),
        word_hits=_compile(words, shortest=True),
        exclusions=_compile(exclusions, shortest=False),
        plain_hits=tuple(plain),
        counts=(lines, idioms),
    )


@cache
def _default_phrases() -> CrisisPhrases:
    """The shipped phrase lists, compiled once per process."""
    return load_phrases(PHRASE_DIR)


TIERS = ("none", "concern", "crisis")


@dataclass(frozen=True)
class Verdict:
    """The screen's answer: crisis (help now), concern (a gentle check-in) or none; and whose."""

    tier: str  # "crisis" | "concern" | "none"
    kind: str  # "self" | "others-danger" | "third-party" | "none"


NO_CRISIS = Verdict("none", "none")


def screen(text: str, *, context: Sequence[str] = ()) -> Verdict:
    """Screen a message on its own and together with the chat's recent texts (oldest first).

    Fragments can add up: "I saved all my pills" then "tonight is the last time I talk to you"
    is a crisis together. The message is read with the last one, the last two and all of the
    recent texts (so an unrelated older text does not dilute a pair), and the highest verdict
    wins. A verdict that only the context gives would repeat on every later message while
    those texts stay in the window, so the caller forgets the chat's context after a crisis
    verdict (see handlers.crisis_context.RecentTexts.forget).
    """
    best = _screen_one(text)
    for start in sorted({len(context) - 1, len(context) - 2, 0}, reverse=True):
        if best.tier == "crisis" or start < 0:
            continue
        together = _screen_one("\n".join([*context[start:], text]))
        if TIERS.index(together.tier) > TIERS.index(best.tier):
            best = together
    return best


def _screen_one(text: str) -> Verdict:
    """The verdict for one text: the model's risk, raised by a clinician phrase."""
    if not text or text.isspace():
        return NO_CRISIS
    repaired = repair(text)
    if not repaired.strip():
        return NO_CRISIS
    model = load_model()
    scores = model.score(text, repaired=repaired)
    phrase = _default_phrases().matches(repaired)
    tier = _tier(model, scores.risk, phrase=phrase, short=is_short(repaired))
    return Verdict(tier, scores.kind) if tier != "none" else NO_CRISIS


def _tier(model: CrisisModel, risk: float, *, phrase: bool, short: bool) -> str:
    """The tier for a risk: a clinician phrase lowers both thresholds; a short text needs one."""
    if (risk >= model.crisis_threshold and not short) or (
        phrase and risk >= model.phrase_threshold
    ):
        return "crisis"
    if (risk >= model.concern_threshold and not short) or (
        phrase and risk >= model.phrase_concern_threshold
    ):
        return "concern"
    return "none"


def warm_up() -> None:
    """Compile the phrase lists and read the model, so the first message does not wait."""
    _default_phrases()
    load_model()


def is_crisis(text: str, phrases: CrisisPhrases | None = None) -> bool:
    """True when the text should trigger crisis-line help (given phrases: those phrases only)."""
    if phrases is not None:
        return phrases.matches(text)
    return screen(text).tier == "crisis"
