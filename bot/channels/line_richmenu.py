"""`line rich-menu`: six large buttons under the chat for the main actions, so nobody types.

The menu is 3 x 2 tiles: book, my bookings, my hours / about the EAP, the full menu, and the
24-hour help line (dials the first 24-hour line of handlers/crisis_lines.toml). Each tile posts
back the same payload as the menu's buttons, so the handlers need nothing new. Without
`--image`, a plain image with one pictogram per tile is drawn here (no imaging library
needed); a designed PNG of the same layout can replace it.
Rerunning installs a fresh menu, makes it the default, then deletes the previous ones.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.i18n import render
from bot.settings import Settings, SettingsError
from handlers.crisis_lines import primary

MENU_NAME = "eap-main-menu"
WIDTH, HEIGHT = 1200, 810  # LINE accepts 800-2500 wide, width/height >= 1.45
COLUMNS, ROWS = 3, 2
CRISIS_LINE = primary().number
# (label key, payload or tel:, tile colour, pictogram)
TILES = (
    ("menu-book", "bk", (6, 199, 85), "calendar"),
    ("menu-my-bookings", "my", (46, 158, 143), "list"),
    ("menu-hours", "hrs", (59, 130, 196), "clock"),
    ("menu-about", "about", (109, 91, 208), "info"),
    ("line-richmenu-more", "m", (95, 107, 122), "menu"),
    ("line-richmenu-crisis", f"tel:{CRISIS_LINE}", (217, 83, 79), "cross"),
)
MAX_LABEL = 20

Shape = tuple[str, float, float, float, float]


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def rich_menu(locale: str, width: int = WIDTH, height: int = HEIGHT) -> dict[str, Any]:
    """The rich menu request: size, chat bar text, and one tappable area per tile."""
    areas = []
    for index, (key, target, _, _) in enumerate(TILES):
        column, row = index % COLUMNS, index // COLUMNS
        x0, x1 = width * column // COLUMNS, width * (column + 1) // COLUMNS
        y0, y1 = height * row // ROWS, height * (row + 1) // ROWS
        text = render(locale, key, {"number": CRISIS_LINE})
        if target.startswith("tel:"):
            act = {"type": "uri", "label": _label(text), "uri": target}
        else:
            act = {"type": "postback", "label": _label(text), "data": target, "displayText": text}
        bounds = {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}
        areas.append({"bounds": bounds, "action": act})
    return {
        "size": {"width": width, "height": height},
        "selected": True,
        "name": f"{MENU_NAME} {locale}",
        "chatBarText": render(locale, "line-richmenu-chat-bar")[:14],
        "areas": areas,
    }


# The default image: flat tiles, each with a white pictogram made of rectangles and circles.


def _pictogram(name: str, cx: float, cy: float, s: float) -> list[Shape]:
    """Shapes as ("rect", x0, y0, x1, y1), ("disc", cx, cy, r, 0) or ("ring", cx, cy, r, r2)."""
    t = s * 0.06  # stroke width
    if name == "calendar":
        top, bottom, left, right = cy - s * 0.3, cy + s * 0.32, cx - s * 0.36, cx + s * 0.36
        shapes = [
            ("rect", left, top, right, top + s * 0.16),
            ("rect", left, top, left + t, bottom),
            ("rect", right - t, top, right, bottom),
            ("rect", left, bottom - t, right, bottom),
        ]
        for row in range(2):
            for col in range(3):
                x = left + s * (0.12 + 0.18 * col)
                y = top + s * (0.26 + 0.16 * row)
                shapes.append(("rect", x, y, x + s * 0.1, y + s * 0.1))
        return shapes
    if name == "list":
        shapes = []
        for row in range(3):
            y = cy - s * 0.24 + row * s * 0.22
            shapes.append(("disc", cx - s * 0.3, y + t, t * 1.3, 0))
            shapes.append(("rect", cx - s * 0.18, y, cx + s * 0.36, y + 2 * t))
        return shapes
    if name == "clock":
        return [
            ("ring", cx, cy, s * 0.36, s * 0.36 - t),
            ("rect", cx - t / 2, cy - s * 0.24, cx + t / 2, cy),
            ("rect", cx - t / 2, cy - t / 2, cx + s * 0.18, cy + t / 2),
        ]
    if name == "info":
        return [
            ("ring", cx, cy, s * 0.36, s * 0.36 - t),
            ("disc", cx, cy - s * 0.15, t * 1.1, 0),
            ("rect", cx - t / 2, cy - s * 0.04, cx + t / 2, cy + s * 0.2),
        ]
    if name == "menu":
        return [
            ("rect", cx - s * 0.32, y, cx + s * 0.32, y + 2 * t)
            for y in (cy - s * 0.22, cy - t, cy + s * 0.22 - 2 * t)
        ]
    return [  # cross: help
        ("ring", cx, cy, s * 0.36, s * 0.36 - t),
        ("rect", cx - s * 0.07, cy - s * 0.22, cx + s * 0.07, cy + s * 0.22),
        ("rect", cx - s * 0.22, cy - s * 0.07, cx + s * 0.22, cy + s * 0.07),
    ]


def _spans(shape: Shape, y: float) -> Iterator[tuple[float, float]]:
    """The horizontal runs of a shape on pixel row y."""
    kind, a, b, c, d = shape
    if kind == "rect":
        if b <= y < d:
            yield a, c
        return
    dy = abs(y - b)
    if dy >= c:
        return
    outer = math.sqrt(c * c - dy * dy)
    if kind == "disc" or dy >= d:
        yield a - outer, a + outer
        return
    inner = math.sqrt(d * d - dy * dy)
    yield a - outer, a - inner
    yield a + inner, a + outer


def image(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """The default menu image as PNG: one coloured tile and white pictogram per action."""
    tiles = []
    for index, (_, _, colour, picture) in enumerate(TILES):
        column, row = index % COLUMNS, index // COLUMNS
        x0, x1 = width * column // COLUMNS, width * (column + 1) // COLUMNS
        y0, y1 = height * row // ROWS, height * (row + 1) // ROWS
        size = min(x1 - x0, y1 - y0)
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        tiles.append((x0, x1, y0, y1, bytes(colour), _pictogram(picture, *centre, size * 0.8)))
    rows = []
    for y in range(height):
        line = bytearray()
        shapes = []
        for x0, x1, y0, y1, colour, pictogram in tiles:
            if y0 <= y < y1:
                line += colour * (x1 - x0)
                shapes += pictogram
        for shape in shapes:
            for start, end in _spans(shape, y + 0.5):
                a, b = max(0, round(start)), min(width, round(end))
                if b > a:
                    line[a * 3 : b * 3] = b"\xff" * ((b - a) * 3)
        rows.append(b"\x00" + bytes(line))
    return _png(width, height, b"".join(rows))


def _png(width: int, height: int, scanlines: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(scanlines, 9))
        + chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG; ValueError if it is not one."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


# Installing it


async def install(settings: Settings, *, picture: bytes | None = None) -> str:
    """Install the menu as every user's default, drop earlier ones; return the new menu's id."""
    from linebot.v3.messaging import AsyncMessagingApiBlob, RichMenuRequest

    from bot.channels.line import API_TIMEOUT, LineChannel

    width, height = png_size(picture) if picture else (WIDTH, HEIGHT)
    menu = rich_menu(settings.default_locale, width, height)
    channel = LineChannel(settings)
    await channel.start()
    try:
        api = channel.api()
        blob = AsyncMessagingApiBlob(api.api_client)
        created = await api.create_rich_menu(
            RichMenuRequest.from_dict(menu), _request_timeout=API_TIMEOUT
        )
        menu_id = created.rich_menu_id
        await blob.set_rich_menu_image(
            menu_id,
            picture or image(width, height),
            _headers={"Content-Type": "image/png"},
            _request_timeout=API_TIMEOUT,
        )
        await api.set_default_rich_menu(menu_id, _request_timeout=API_TIMEOUT)
        listing = await api.get_rich_menu_list(_request_timeout=API_TIMEOUT)
        for old in listing.richmenus:
            if old.name.startswith(MENU_NAME) and old.rich_menu_id != menu_id:
                await api.delete_rich_menu(old.rich_menu_id, _request_timeout=API_TIMEOUT)
    finally:
        await channel.stop()
    return str(menu_id)


def add_parsers(commands: Any) -> None:
    """Add `line rich-menu` to the CLI."""
    line = commands.add_parser(
        "line",
        help="LINE channel tools",
        description="Set up the LINE Official Account the bot answers.",
    )
    actions = line.add_subparsers(dest="line_command", metavar="ACTION", required=True)
    menu = actions.add_parser(
        "rich-menu",
        help="install the rich menu with the main actions",
        description="Install a rich menu (book, my bookings, my hours, about, more, 24-hour "
        "help line) as every user's default, in the default language, replacing the one an "
        "earlier run installed. Needs EAP_LINE_CHANNEL_SECRET and EAP_LINE_ACCESS_TOKEN.",
    )
    menu.add_argument(
        "--image",
        type=Path,
        help="a PNG of your own design (3 columns x 2 rows in the order above, 800-2500 px "
        "wide, width/height >= 1.45, at most 1 MB) instead of the plain default",
    )


async def run(args: Any, settings: Settings) -> int:
    """Run `line rich-menu`; LINE's refusals and bad images fail with a clear message."""
    from linebot.v3.messaging import ApiException

    if not settings.line_enabled:
        raise SettingsError("set EAP_LINE_CHANNEL_SECRET and EAP_LINE_ACCESS_TOKEN first")
    try:
        picture = args.image.read_bytes() if args.image else None
    except OSError as err:
        print(f"eap-bot: --image: {err.strerror}: {args.image}", file=sys.stderr)
        return 2
    try:
        menu_id = await install(settings, picture=picture)
    except ValueError as err:
        print(f"eap-bot: --image: {err}", file=sys.stderr)
        return 2
    except ApiException as err:
        print(
            f"eap-bot: LINE refused the rich menu: HTTP {err.status} {err.body!r}", file=sys.stderr
        )
        return 1
    except OSError as err:
        print(f"eap-bot: could not reach the LINE API: {err}", file=sys.stderr)
        return 1
    print(f"rich menu {menu_id} installed as the default for every user")
    return 0
