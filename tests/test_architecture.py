"""The arrows point down: an AST walk over every import keeps the layers honest."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "handlers": {"telegram", "linebot", "aiohttp", "apscheduler", "bot"},
    "storage": {"handlers", "bot", "telegram", "linebot", "aiohttp"},
    "kpi": {"handlers", "bot.channels", "telegram", "linebot"},
}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, absolute names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(package: str) -> list[str]:
    """Imports in a package that break its rule."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported_modules(path):
            for banned in FORBIDDEN[package]:
                if name == banned or name.startswith(banned + "."):
                    found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_imports_point_down(package: str) -> None:
    assert violations(package) == []


def test_the_check_catches_a_bad_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import telegram\nfrom bot.dispatch import Dispatcher\n")
    assert imported_modules(bad) == {"telegram", "bot.dispatch"}


def test_bot_py_is_a_thin_shim() -> None:
    source = (ROOT / "bot.py").read_text()
    assert "from bot.cli import main" in source
    assert len(source.splitlines()) <= 10
