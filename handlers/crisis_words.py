"""What a typed answer in a crisis conversation means, and Taiwanese callback numbers.

Only clear words count: "in danger" is matched generously (anywhere in the text, and a bare
"no" to "are you safe?"), "I'm OK" only as the whole answer, so nothing unclear reads as safe.
"""

from __future__ import annotations

import re
import unicodedata

DANGER, TALK, SAFE = "danger", "talk", "safe"

_DANGER_ZH = ("危險", "不安全", "救命", "救我", "幫我", "幫幫我", "幫助", "緊急", "報警")
_DANGER_EN = re.compile(r"\b(help|danger|dangerous|unsafe|not safe|emergency|sos)\b")
_NOT = {"no", "nope", "not really", "不", "不是", "沒有", "不太", "不好說"}
_TALK_ZH = ("找人談", "找人聊", "想談", "想聊", "談談", "聊聊", "說說話", "諮商", "諮詢", "找人說")
_TALK_EN = re.compile(r"\b(talk|someone|counsel\w*|speak)\b")
_REFUSAL = re.compile(r"不想|不要|don't|do not|dont|not")
_SAFE = {
    "我沒事", "沒事", "還好", "我還好", "我很好", "我安全", "安全", "我現在安全", "現在安全",
    "我現在沒事", "我ok", "ok", "okay", "i'm ok", "im ok", "i am ok", "i'm okay", "i am okay",
    "fine", "i'm fine", "im fine", "i am fine", "i'm safe", "im safe", "i am safe", "safe",
    "i'm alright", "i am alright", "all good",
}  # fmt: skip
_ENDINGS = re.compile(r"([\s,]*(了|啦|喔|哦|囉|耶|呢|啊|的|謝謝|謝啦|thanks|thank you|now))+$")
_EDGES = re.compile(r"^[\s\W_]+|[\s\W_]+$")


def _clean(text: str) -> str:
    """Folded to one form: width, case, quotes, spaces; punctuation at the ends dropped."""
    folded = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    return _EDGES.sub("", " ".join(folded.split()))


def _is_safe(clean: str) -> bool:
    trimmed = _EDGES.sub("", _ENDINGS.sub("", clean))
    return clean in _SAFE or trimmed in _SAFE


def answer(text: str) -> str | None:
    """DANGER, TALK or SAFE when the text clearly says so; None for anything else."""
    clean = _clean(text)
    if not clean:
        return None
    if clean in _NOT or any(w in clean for w in _DANGER_ZH) or _DANGER_EN.search(clean):
        return DANGER
    talks = any(w in clean for w in _TALK_ZH) or _TALK_EN.search(clean)
    if talks and not _REFUSAL.search(clean):
        return TALK
    return SAFE if _is_safe(clean) else None


_MOBILE = re.compile(r"09\d{8}")
_MOBILE_INTL = re.compile(r"\+8869\d{8}")
_LANDLINE = re.compile(r"0[2-8]\d{7,8}")
_LANDLINE_INTL = re.compile(r"\+886[2-8]\d{7,8}")


def phone(text: str) -> str | None:
    """A Taiwanese mobile (09…, +8869…) or landline (0 + area code …) number, compacted."""
    compact = re.sub(r"[\s\-().]", "", unicodedata.normalize("NFKC", text))
    if compact.startswith("+8860"):  # +886 (0)2 …: the trunk zero is dropped abroad
        compact = "+886" + compact[5:]
    for pattern in (_MOBILE, _MOBILE_INTL, _LANDLINE, _LANDLINE_INTL):
        if pattern.fullmatch(compact):
            return compact
    return None
