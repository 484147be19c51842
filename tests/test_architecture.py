"""The arrows point down and only bot/ reads the clock: AST walks keep the layers honest."""

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
CLOCK_FREE = ("handlers", "kpi", "storage")  # they take `now` from their caller
CLOCK_METHODS = {"now", "today", "utcnow"}  # on any receiver, aliases too
CLOCK_MODULE_FUNCTIONS = {"time", "time_ns", "monotonic", "perf_counter", "localtime", "gmtime"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, absolute names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(package: str, root: Path = ROOT) -> list[str]:
    """Imports in a package that break its rule."""
    found = []
    for path in sorted((root / package).rglob("*.py")):
        for name in imported_modules(path):
            for banned in FORBIDDEN[package]:
                if name == banned or name.startswith(banned + "."):
                    found.append(f"{path.relative_to(root)} imports {name}")
    return found


def clock_reads(source: str) -> list[str]:
    """Calls in a module's source that read the wall clock, as `line: call`."""
    tree = ast.parse(source)
    time_modules, clock_names = {"time"}, {"utcnow"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            time_modules |= {a.asname or a.name for a in node.names if a.name == "time"}
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            clock_names |= {a.asname or a.name for a in node.names}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and (
            func.attr in CLOCK_METHODS
            or (
                func.attr in CLOCK_MODULE_FUNCTIONS
                and isinstance(func.value, ast.Name)
                and func.value.id in time_modules
            )
        ):
            found.append(f"{node.lineno}: {ast.unparse(func)}()")
        elif isinstance(func, ast.Name) and func.id in clock_names:
            found.append(f"{node.lineno}: {func.id}()")
    return found


def clock_violations(root: Path = ROOT) -> list[str]:
    """Wall-clock reads in the packages that must take `now` from their caller."""
    return [
        f"{path.relative_to(root)}:{hit}"
        for package in CLOCK_FREE
        for path in sorted((root / package).rglob("*.py"))
        for hit in clock_reads(path.read_text(encoding="utf-8"))
    ]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_imports_point_down(package: str) -> None:
    assert violations(package) == []


def test_the_import_check_catches_a_bad_import(tmp_path: Path) -> None:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "ok.py").write_text("from storage import bookings\n")
    (tmp_path / "handlers" / "bad.py").write_text(
        "import telegram\nfrom bot.dispatch import Dispatcher\n"
    )
    assert sorted(violations("handlers", tmp_path)) == [
        "handlers/bad.py imports bot.dispatch",
        "handlers/bad.py imports telegram",
    ]


def test_only_bot_reads_the_clock() -> None:
    assert clock_violations() == []


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("from datetime import datetime\nx = datetime.now()\n", ["2: datetime.now()"]),
        ("from datetime import UTC, datetime\nx = datetime.now(UTC)\n", ["2: datetime.now()"]),
        ("import datetime\nx = datetime.datetime.now()\n", ["2: datetime.datetime.now()"]),
        ("from datetime import datetime as D\nx = D.now()\n", ["2: D.now()"]),
        ("from datetime import date\nx = date.today()\n", ["2: date.today()"]),
        ("import time\nx = time.time()\n", ["2: time.time()"]),
        ("import time as t\nx = t.monotonic()\n", ["2: t.monotonic()"]),
        ("from time import time as clock\nx = clock()\n", ["2: clock()"]),
        ("from bot.clock import utcnow\nx = utcnow()\n", ["2: utcnow()"]),
        ("x = datetime.utcnow()\n", ["1: datetime.utcnow()"]),
    ],
)
def test_the_clock_check_catches_each_way_to_read_the_clock(
    snippet: str, expected: list[str]
) -> None:
    assert clock_reads(snippet) == expected


def test_the_clock_check_passes_code_that_is_handed_now(tmp_path: Path) -> None:
    clean = (
        "from datetime import datetime, timedelta\n"
        "def due(now: datetime, at: datetime) -> bool:\n"
        "    return at <= now + timedelta(hours=1)\n"
    )
    assert clock_reads(clean) == []
    for package in CLOCK_FREE:
        (tmp_path / package).mkdir()
        (tmp_path / package / "clean.py").write_text(clean)
    (tmp_path / "kpi" / "dirty.py").write_text("import time\nstarted = time.time()\n")
    assert clock_violations(tmp_path) == ["kpi/dirty.py:2: time.time()"]


def test_bot_py_is_a_thin_shim() -> None:
    source = (ROOT / "bot.py").read_text()
    assert "from bot.cli import main" in source
    assert len(source.splitlines()) <= 10
