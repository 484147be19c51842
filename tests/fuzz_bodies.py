"""Deterministic fuzz bodies for the Telegram and LINE webhooks (seeded, no hypothesis).

Each `Body` says which statuses it may get and whether it may leave rows behind. Bodies of the
"invalid" phase are invalid by construction (wrong secret or signature, not JSON, not an update,
over the cap, nested past the parser's depth): none of them may store anything. Bodies of the
"weird" phase are authentic and well-formed but odd (unknown types, group sources, missing ids,
swapped field types, odd Unicode, byte mutations): they may be stored, never answered with 5xx.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

TELEGRAM = "telegram"
LINE = "line"
ENDPOINTS = (TELEGRAM, LINE)
TELEGRAM_CAP = 256 * 1024  # bot.channels.telegram.MAX_BODY
LINE_CAP = 1024 * 1024  # bot.channels.line.MAX_BODY
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SIGNATURE_HEADER = "X-Line-Signature"
DEPTH = 10_000  # far past Python's recursion limit, so json.loads cannot build it
FIRST_UPDATE_ID = 700_000_000  # clear of the ids the fake Telegram hands out
INVALID = "invalid"
WEIRD = "weird"
PHASES = (INVALID, WEIRD)

ODD_STRINGS = (
    "\ud800",  # lone high surrogate (escaped as \ud800 in JSON)
    "\udfff",  # lone low surrogate
    "a\udc00b\ud83d",
    "\u202eevil\u202c",  # right-to-left override
    "\u200f\u05e9\u05dc\u05d5\u05dd\u200e",  # RTL mark, Hebrew
    "\x00",
    "nul\x00inside",
    "\ufeff\ufffe\uffff",  # BOM and non-characters
    "😀👨‍👩‍👧‍👦🏳️‍🌈",  # 4-byte emoji and ZWJ sequences
    "e\u0301\u0301\u0301\u0301",  # stacked combining marks
    "\U0010ffff\U000e0001",
    "/start\u00a0\u2028\u2029",
    "",
    " ",
    "\\",
    '"',
)


FUZZ_EPOCH_MS = 1_790_000_000_000  # a fixed date for reproducible bodies (2026-09-22)


@dataclass(frozen=True)
class Body:
    """One request to a webhook: bytes, headers, and what the bot may answer and keep."""

    endpoint: str
    kind: str
    data: bytes
    headers: dict[str, str] = field(hash=False)
    allowed: frozenset[int]
    may_store: bool
    chunked: bool = False


# Mutation operators -----------------------------------------------------------------------------


def flip_bit(rng: random.Random, data: bytes) -> bytes:
    """Flip one bit."""
    if not data:
        return b"\x00"
    at = rng.randrange(len(data))
    return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1 :]


def insert_bytes(rng: random.Random, data: bytes) -> bytes:
    """Insert a few random or JSON-significant bytes."""
    at = rng.randrange(len(data) + 1)
    extra = rng.choice([b'"', b"{", b"}", b"[", b",", b"\\", b"\x00", b"\xff", rng.randbytes(4)])
    return data[:at] + extra + data[at:]


def delete_bytes(rng: random.Random, data: bytes) -> bytes:
    """Delete a short run of bytes."""
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, 8) :]


def duplicate_slice(rng: random.Random, data: bytes) -> bytes:
    """Repeat a slice in place."""
    if len(data) < 2:
        return data * 2
    start = rng.randrange(len(data) - 1)
    end = rng.randrange(start + 1, len(data))
    return data[:end] + data[start:end] + data[end:]


MUTATIONS: tuple[Callable[[random.Random, bytes], bytes], ...] = (
    flip_bit,
    insert_bytes,
    delete_bytes,
    duplicate_slice,
)


def mutate(rng: random.Random, data: bytes) -> bytes:
    """Apply one to three byte mutations."""
    for _ in range(rng.randint(1, 3)):
        data = rng.choice(MUTATIONS)(rng, data)
    return data


def other_type(rng: random.Random, value: Any) -> Any:
    """A value of a different JSON type than `value`."""
    options: list[Any] = [
        "12345",
        "",
        0,
        -1,
        2**63,
        1.5,
        None,
        True,
        [],
        [value],
        {},
        {"x": value},
    ]
    candidates = [o for o in options if type(o) is not type(value)]
    return rng.choice(candidates)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON tree."""
    found: list[tuple[Any, ...]] = []
    if isinstance(node, (dict, list)):
        items: Any = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            found.append((*prefix, key))
            found += paths(value, (*prefix, key))
    return found


def replace_at(node: Any, path: tuple[Any, ...], value: Any) -> None:
    """Set the value at a path (in place)."""
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def swap_types(rng: random.Random, tree: Any, *, keep: Callable[[tuple[Any, ...]], bool]) -> Any:
    """Give one to three fields (not those `keep` protects) a value of another type."""
    tree = json.loads(json.dumps(tree))
    for _ in range(rng.randint(1, 3)):
        choices = [p for p in paths(tree) if not keep(p)]
        if not choices:
            break
        path = rng.choice(choices)
        current: Any = tree
        for key in path:
            current = current[key]
        replace_at(tree, path, other_type(rng, current))
    return tree


def odd_string(rng: random.Random) -> str:
    """A string that breaks naive text handling."""
    if rng.random() < 0.1:  # long, yet three of them escaped stay under Telegram's cap
        return (rng.choice(ODD_STRINGS[:-4]) * 4_000)[: rng.randint(1_000, 4_000)]
    return "".join(rng.choice(ODD_STRINGS) for _ in range(rng.randint(1, 4)))


def oddify(rng: random.Random, tree: Any, *, keep: Callable[[tuple[Any, ...]], bool]) -> Any:
    """Replace one to three string fields (not protected ones) with odd Unicode."""
    tree = json.loads(json.dumps(tree))
    strings = [p for p in paths(tree) if not keep(p) and _get(tree, p).__class__ is str]
    for path in rng.sample(strings, min(len(strings), rng.randint(1, 3))):
        replace_at(tree, path, odd_string(rng))
    return tree


def _get(tree: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def encode(tree: Any, *, errors: str = "backslashreplace") -> bytes:
    """JSON as a platform sends it: UTF-8, non-ASCII raw, lone surrogates escaped.

    With errors="surrogatepass", lone surrogates go out raw: bytes that are not UTF-8.
    """
    return json.dumps(tree, ensure_ascii=False, separators=(",", ":")).encode("utf-8", errors)


def encode_ascii(tree: Any) -> bytes:
    """JSON with every non-ASCII character escaped (\\ud800 stays a lone escape)."""
    return json.dumps(tree).encode()


def nested(rng: random.Random, depth: int = DEPTH) -> str:
    """Arrays and objects nested `depth` deep."""
    opens, closes = [], []
    for _ in range(depth):
        if rng.random() < 0.5:
            opens.append("[")
            closes.append("]")
        else:
            opens.append('{"a":')
            closes.append("}")
    return "".join(opens) + "1" + "".join(reversed(closes))


def sign(secret: str, data: bytes) -> str:
    """LINE's X-Line-Signature: base64 HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


# Platform-shaped templates ----------------------------------------------------------------------


class Templates:
    """Real-looking Telegram updates and LINE events, with fresh ids from one counter."""

    def __init__(self, rng: random.Random, now_ms: int = FUZZ_EPOCH_MS) -> None:
        """Draw from `rng`; update ids start clear of the fakes' own; LINE events are dated
        up to about 17 minutes before `now_ms` (older ones are refused as replays)."""
        self.rng = rng
        self.now_ms = now_ms
        self.ids = itertools.count(FIRST_UPDATE_ID)

    def telegram_user(self) -> dict[str, Any]:
        """A Telegram user object."""
        user_id = self.rng.randint(1_000, 2_000_000_000)
        return {"id": user_id, "is_bot": False, "first_name": "Ann", "language_code": "en"}

    def telegram_chat(self, user: dict[str, Any], kind: str = "private") -> dict[str, Any]:
        """A chat: the user's private chat, or a group, supergroup or channel."""
        if kind == "private":
            return {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        return {"id": -self.rng.randint(1, 10**12), "type": kind, "title": "Team"}

    def telegram_message(self, chat_kind: str = "private") -> dict[str, Any]:
        """A text message."""
        user = self.telegram_user()
        text = self.rng.choice(["/start", "/menu", "hello", "/book", "1", "E0002"])
        message: dict[str, Any] = {
            "message_id": self.rng.randint(1, 10**6),
            "from": user,
            "chat": self.telegram_chat(user, chat_kind),
            "date": 1_790_000_000 + self.rng.randint(0, 10**6),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        return message

    def telegram_update(self, kind: str | None = None) -> dict[str, Any]:
        """An update: a message, a button press, or a type the bot ignores."""
        kind = kind or self.rng.choice(["message", "message", "callback_query", "edited_message"])
        update: dict[str, Any] = {"update_id": next(self.ids)}
        if kind == "callback_query":
            message = self.telegram_message()
            update[kind] = {
                "id": str(self.rng.randint(1, 10**18)),
                "from": message["from"],
                "message": message,
                "chat_instance": "ci1",
                "data": self.rng.choice(["m", "bk:d:psychology", "x" * 64, "my:r:1"]),
            }
        elif kind in ("message", "edited_message", "channel_post"):
            update[kind] = self.telegram_message()
        else:  # a type the bot never asked for (allowed_updates) or one Telegram adds later
            update[kind] = {"id": self.rng.randint(1, 10**6), "whatever": [1, "two", None]}
        return update

    def line_source(self, kind: str = "user") -> dict[str, Any]:
        """A LINE event source: a user, a group or a room."""
        user = "U" + self.rng.randbytes(16).hex()
        if kind == "group":
            return {"type": "group", "groupId": "C" + self.rng.randbytes(16).hex(), "userId": user}
        if kind == "room":
            return {"type": "room", "roomId": "R" + self.rng.randbytes(16).hex(), "userId": user}
        return {"type": "user", "userId": user}

    def line_event(self, kind: str | None = None, source: str = "user") -> dict[str, Any]:
        """A LINE webhook event: message, postback, follow, unfollow or an odd type."""
        kind = kind or self.rng.choice(["message", "message", "postback", "follow", "unfollow"])
        event: dict[str, Any] = {
            "type": kind,
            "mode": "active",
            "timestamp": self.now_ms - self.rng.randint(0, 10**6),
            "source": self.line_source(source),
            "webhookEventId": f"01FUZZ{next(self.ids):020d}",
            "deliveryContext": {"isRedelivery": self.rng.random() < 0.1},
        }
        if kind in ("message", "postback", "follow", "join", "memberJoined"):
            event["replyToken"] = self.rng.randbytes(16).hex()
        if kind == "message":
            event["message"] = self.rng.choice(
                [
                    {"id": "1", "type": "text", "text": "hello", "quoteToken": "q"},
                    {"id": "2", "type": "sticker", "packageId": "1", "stickerId": "2"},
                    {"id": "3", "type": "image", "contentProvider": {"type": "line"}},
                    {"id": "4", "type": "location", "latitude": 25.0, "longitude": 121.5},
                ]
            )
        elif kind == "postback":
            event["postback"] = {"data": self.rng.choice(["m", "my", "bk:d:psychology"])}
        elif kind == "follow":
            event["follow"] = {"isUnblocked": False}
        return event

    def line_body(self, events: list[Any]) -> dict[str, Any]:
        """A webhook body."""
        return {"destination": "U" + "0" * 32, "events": events}


# Bodies per endpoint ----------------------------------------------------------------------------


class Generator:
    """Bodies for one endpoint, one phase at a time, from a seed."""

    def __init__(
        self, endpoint: str, *, secret: str, seed: int = 0, now_ms: int = FUZZ_EPOCH_MS
    ) -> None:
        """`secret`: Telegram's webhook secret token or LINE's channel secret; `now_ms` the
        receiving server's time, to date events by."""
        self.endpoint = endpoint
        self.secret = secret
        self.rng = random.Random(f"{endpoint}:{seed}")
        self.t = Templates(self.rng, now_ms)
        self.cap = TELEGRAM_CAP if endpoint == TELEGRAM else LINE_CAP

    def bodies(self, phase: str, count: int) -> Iterator[Body]:
        """`count` bodies of a phase: every kind once, then kinds drawn by weight."""
        kinds = self.kinds(phase)
        names = list(kinds)
        weights = [kinds[name][1] for name in names]
        for index in range(count):
            name = names[index] if index < len(names) else self.rng.choices(names, weights)[0]
            yield kinds[name][0]()

    def kinds(self, phase: str) -> dict[str, tuple[Callable[[], Body], float]]:
        """The body kinds of a phase with their weights."""
        if phase == INVALID:
            common = {
                "random-bytes": (self.random_bytes, 10.0),
                "truncated": (self.truncated, 10.0),
                "not-an-object": (self.not_an_object, 5.0),
                "deeply-nested": (self.deeply_nested, 3.0),
                "over-cap": (self.over_cap, 0.3),
            }
            if self.endpoint == TELEGRAM:
                return common | {
                    "bad-update-id": (self.bad_update_id, 8.0),
                    "wrong-secret": (self.wrong_secret, 8.0),
                    "wrong-content-type": (self.wrong_content_type, 2.0),
                }
            return common | {
                "events-not-objects": (self.events_not_objects, 8.0),
                "bad-signature": (self.bad_signature, 8.0),
            }
        return {
            "odd-unicode": (self.odd_unicode, 10.0),
            "swapped-types": (self.swapped_types, 10.0),
            "unknown-type": (self.unknown_type, 5.0),
            "missing-ids": (self.missing_ids, 5.0),
            "group-source": (self.group_source, 5.0),
            "byte-mutated": (self.byte_mutated, 10.0),
            "just-under-cap": (self.just_under_cap, 0.2),
        }

    # Building blocks

    def body(
        self,
        kind: str,
        data: bytes,
        allowed: set[int],
        *,
        may_store: bool,
        headers: dict[str, str] | None = None,
        chunked: bool = False,
    ) -> Body:
        """A body with the endpoint's authentic headers unless `headers` are given."""
        if headers is None:
            headers = self.authentic(data)
        return Body(self.endpoint, kind, data, headers, frozenset(allowed), may_store, chunked)

    def authentic(self, data: bytes) -> dict[str, str]:
        """The headers the platform sends with this body."""
        if self.endpoint == TELEGRAM:
            return {"Content-Type": "application/json", SECRET_HEADER: self.secret}
        return {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, data)}

    def valid_tree(self) -> dict[str, Any]:
        """One authentic-looking update, or webhook body of one to three events."""
        if self.endpoint == TELEGRAM:
            return self.t.telegram_update()
        return self.t.line_body([self.t.line_event() for _ in range(self.rng.randint(1, 3))])

    def kept(self, path: tuple[Any, ...]) -> bool:
        """Fields whose change would make the body invalid rather than weird."""
        if self.endpoint == TELEGRAM:
            return path == ("update_id",)
        return len(path) <= 2 and path[:1] == ("events",)

    # Invalid by construction

    def random_bytes(self) -> Body:
        """Random bytes behind a '#', which no JSON text starts with."""
        data = b"#" + self.rng.randbytes(self.rng.randint(0, 2_000))
        return self.body("random-bytes", data, {400}, may_store=False)

    def truncated(self) -> Body:
        """A valid body cut short: a proper prefix of a JSON object is never JSON."""
        data = encode(self.valid_tree())
        data = data[: self.rng.randrange(len(data))]
        return self.body("truncated", data, {400}, may_store=False)

    def not_an_object(self) -> Body:
        """JSON that is not an object: a list (even of updates), a number, a string, null."""
        tree = self.rng.choice([[self.valid_tree()], 1, -0.5, "update", None, True, [], "{}"])
        return self.body("not-an-object", encode(tree), {400}, may_store=False)

    def deeply_nested(self) -> Body:
        """Nesting past the parser's depth: on its own or inside an otherwise valid body."""
        deep = nested(self.rng)
        if self.rng.random() < 0.5:
            data = deep.encode()
        elif self.endpoint == TELEGRAM:
            data = b'{"update_id":%d,"message":%s}' % (next(self.t.ids), deep.encode())
        else:
            event = json.dumps(self.t.line_event())[:-1] + ',"message":' + deep + "}"
            data = ('{"destination":"U0","events":[' + event + "]}").encode()
        return self.body("deeply-nested", data, {400}, may_store=False)

    def over_cap(self) -> Body:
        """A valid-looking body a little over the size cap, with or without Content-Length."""
        tree = self.valid_tree()
        filler = "x" * (self.cap + self.rng.randint(1, 64 * 1024))
        tree["padding"] = filler
        chunked = self.rng.random() < 0.5
        return self.body("over-cap", encode(tree), {413}, may_store=False, chunked=chunked)

    def bad_update_id(self) -> Body:
        """An update whose update_id is missing, of another type, negative or absurdly large."""
        tree = self.t.telegram_update()
        choice = self.rng.choice(["missing", "swap", "negative", "huge"])
        if choice == "missing":
            del tree["update_id"]
        elif choice == "negative":
            tree["update_id"] = -self.rng.randint(1, 10**9)
        elif choice == "huge":  # no update id Telegram issues comes near 2**63
            tree["update_id"] = 2**63 + self.rng.randint(0, 10**300)
        else:
            tree["update_id"] = self.rng.choice(["123", 1.0, 2.5, None, [1], {"id": 1}, True])
        return self.body("bad-update-id", encode(tree), {400}, may_store=False)

    def wrong_secret(self) -> Body:
        """A valid update with a missing, empty, wrong, truncated or extended secret token."""
        data = encode(self.t.telegram_update())
        headers = {"Content-Type": "application/json"}
        choice = self.rng.choice(["missing", "empty", "wrong", "prefix", "suffix", "case"])
        token = {
            "empty": "",
            "wrong": "not-the-secret",
            "prefix": self.secret[:-1],
            "suffix": self.secret + "x",
            "case": self.secret.swapcase(),
        }.get(choice)
        if token is not None:
            headers[SECRET_HEADER] = token
        return self.body("wrong-secret", data, {403}, may_store=False, headers=headers)

    def wrong_content_type(self) -> Body:
        """A valid update sent as text, a form, or with no content type."""
        data = encode(self.t.telegram_update())
        content_type = self.rng.choice(["text/plain", "application/x-www-form-urlencoded", ""])
        headers = {SECRET_HEADER: self.secret, "Content-Type": content_type}
        return self.body("wrong-content-type", data, {415}, may_store=False, headers=headers)

    def events_not_objects(self) -> Body:
        """A signed LINE body whose events are missing, not a list, or a list of non-objects."""
        tree: dict[str, Any] = {"destination": "U" + "0" * 32}
        choice = self.rng.choice(["missing", "string", "number", "null", "object", "scalars"])
        if choice != "missing":
            tree["events"] = {
                "string": "message",
                "number": 3,
                "null": None,
                "object": {},
                "scalars": [1, "two", None, [self.t.line_event()]],
            }[choice]
        return self.body("events-not-objects", encode(tree), {200, 400}, may_store=False)

    def bad_signature(self) -> Body:
        """A valid LINE body with a missing, empty, garbage, foreign or stale signature."""
        data = encode(self.t.line_body([self.t.line_event()]))
        choice = self.rng.choice(["missing", "garbage", "foreign", "other-body", "not-base64"])
        headers = {"Content-Type": "application/json"}
        signature = {
            "garbage": base64.b64encode(self.rng.randbytes(32)).decode(),
            "foreign": sign("another channel secret", data),
            "other-body": sign(self.secret, data + b" "),
            "not-base64": "!!not base64!!",
        }.get(choice)
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        allowed = {400} if signature is None else {401}
        return self.body("bad-signature", data, allowed, may_store=False, headers=headers)

    # Authentic but weird

    def odd_unicode(self) -> Body:
        """Odd Unicode in string fields, escaped as \\uXXXX or sent raw."""
        tree = oddify(self.rng, self.valid_tree(), keep=self.kept)
        form = self.rng.choice(["escaped", "raw", "not-utf8"])
        if form == "escaped":
            data = encode_ascii(tree)
        else:
            data = encode(
                tree, errors="surrogatepass" if form == "not-utf8" else "backslashreplace"
            )
        return self.body("odd-unicode", data, {200, 400}, may_store=True)

    def swapped_types(self) -> Body:
        """Fields of the wrong JSON type (strings, numbers, null, lists, objects swapped)."""
        tree = swap_types(self.rng, self.valid_tree(), keep=self.kept)
        return self.body("swapped-types", encode(tree), {200, 400}, may_store=True)

    def unknown_type(self) -> Body:
        """Update or event types the bot does not handle, known to the platform or not."""
        if self.endpoint == TELEGRAM:
            kind = self.rng.choice(["my_chat_member", "poll", "channel_post", "update_from_mars"])
            tree = self.t.telegram_update(kind)
        else:
            kind = self.rng.choice(["join", "memberJoined", "beacon", "things", "fooEvent", ""])
            tree = self.t.line_body([self.t.line_event(kind)])
        return self.body("unknown-type", encode(tree), {200}, may_store=True)

    def missing_ids(self) -> Body:
        """Valid-looking events without their inner ids (chat, sender, message, event)."""
        tree = self.valid_tree()
        if self.endpoint == TELEGRAM:
            inner = next(v for k, v in tree.items() if k != "update_id")
            for key in self.rng.sample(["message_id", "from", "chat", "id", "date"], 2):
                inner.pop(key, None)
        else:
            for event in tree["events"]:
                for key in self.rng.sample(["webhookEventId", "source", "replyToken", "type"], 2):
                    event.pop(key, None)
                if "source" in event and self.rng.random() < 0.5:
                    event["source"].pop("userId", None)
        allowed = {200} if self.endpoint == TELEGRAM else {200, 400}  # LINE: no "type" is 400
        return self.body("missing-ids", encode(tree), allowed, may_store=True)

    def group_source(self) -> Body:
        """Messages from groups, supergroups, channels (Telegram) or groups and rooms (LINE)."""
        if self.endpoint == TELEGRAM:
            kind = self.rng.choice(["group", "supergroup", "channel"])
            tree = {"update_id": next(self.t.ids), "message": self.t.telegram_message(kind)}
        else:
            source = self.rng.choice(["group", "room"])
            kind = self.rng.choice(["message", "postback", "join", "leave"])
            tree = self.t.line_body([self.t.line_event(kind, source)])
        return self.body("group-source", encode(tree), {200}, may_store=True)

    def byte_mutated(self) -> Body:
        """A valid body with a few bytes flipped, inserted, deleted or repeated (then signed)."""
        data = mutate(self.rng, encode(self.valid_tree()))
        return self.body("byte-mutated", data, {200, 400}, may_store=True)

    def just_under_cap(self) -> Body:
        """A valid body padded to just under the size cap."""
        tree = self.valid_tree()
        tree["padding"] = ""
        room = self.cap - len(encode(tree)) - self.rng.randint(0, 512)
        tree["padding"] = "y" * room
        return self.body("just-under-cap", encode(tree), {200}, may_store=True)
