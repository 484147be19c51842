"""`python bot.py line rich-menu` against the fake LINE API, through the real SDK."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels.line_richmenu import HEIGHT, TILES, WIDTH, image, png_size, rich_menu
from tests.conftest import TEST_KEY
from tests.fake_line import ACCESS_TOKEN, CHANNEL_SECRET, FakeLine, rich_menu_problems
from tests.openapi_check import load

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def fake() -> AsyncIterator[FakeLine]:
    """A fake LINE API for the command to talk to."""
    line = FakeLine()
    await line.start()
    yield line
    await line.close()


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run bot.py in a subprocess while this loop keeps serving the fake."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "bot.py",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode(), err.decode()


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAP_")}
    env.update(
        EAP_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'eap.db'}",
        EAP_PSEUDONYM_KEY=TEST_KEY,
        **extra,
    )
    return env


async def test_rich_menu_is_installed_as_default_and_replaced_on_rerun(
    fake: FakeLine, tmp_path: Path
) -> None:
    env = environment(
        tmp_path,
        EAP_LINE_CHANNEL_SECRET=CHANNEL_SECRET,
        EAP_LINE_ACCESS_TOKEN=ACCESS_TOKEN,
        EAP_LINE_API_BASE=fake.url,
    )
    code, out, err = await run_cli("line", "rich-menu", env=env)
    assert (code, err) == (0, "")
    first = fake.default_rich_menu
    assert first is not None and first in out
    menu = fake.rich_menus[first]
    assert [a["action"].get("data", a["action"].get("uri")) for a in menu["areas"]] == [
        "bk",
        "my",
        "hrs",
        "about",
        "m",
        "tel:1925",
    ]
    assert png_size(fake.images[first]) == (WIDTH, HEIGHT)
    code, out, err = await run_cli("line", "rich-menu", env=env)
    assert code == 0
    assert fake.default_rich_menu != first and list(fake.rich_menus) == [fake.default_rich_menu]
    assert fake.refused() == []


async def test_a_designed_image_sets_the_menu_size(fake: FakeLine, tmp_path: Path) -> None:
    picture = tmp_path / "menu.png"
    picture.write_bytes(image(2500, 1686))
    env = environment(
        tmp_path,
        EAP_LINE_CHANNEL_SECRET=CHANNEL_SECRET,
        EAP_LINE_ACCESS_TOKEN=ACCESS_TOKEN,
        EAP_LINE_API_BASE=fake.url,
    )
    code, _, err = await run_cli("line", "rich-menu", "--image", str(picture), env=env)
    assert (code, err) == (0, "")
    menu = fake.rich_menus[fake.default_rich_menu or ""]
    assert menu["size"] == {"width": 2500, "height": 1686}
    assert menu["areas"][-1]["bounds"] == {"x": 1666, "y": 843, "width": 834, "height": 843}
    (tmp_path / "menu.txt").write_text("not an image")
    code, _, err = await run_cli(
        "line", "rich-menu", "--image", str(tmp_path / "menu.txt"), env=env
    )
    assert code == 2 and "not a PNG" in err


async def test_rich_menu_needs_line_credentials(tmp_path: Path) -> None:
    code, _, err = await run_cli("line", "rich-menu", env=environment(tmp_path))
    assert code == 2 and "EAP_LINE_ACCESS_TOKEN" in err


@pytest.mark.parametrize("locale", ["zh-TW", "en"])
def test_rich_menu_is_within_lines_limits(locale: str) -> None:
    menu = rich_menu(locale)
    assert rich_menu_problems(menu) == []
    assert load("messaging-api.yml").errors(menu, "RichMenuRequest") == []
    assert len(menu["areas"]) == len(TILES)
    assert 0 < len(menu["chatBarText"]) <= 14
