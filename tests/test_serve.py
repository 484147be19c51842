"""`serve` as a user runs it: health endpoint up, clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import TEST_KEY

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_healthz_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAP_")}
    env.update(
        EAP_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'eap.db'}",
        EAP_PSEUDONYM_KEY=TEST_KEY,
        EAP_PORT=str(port),
    )
    subprocess.run(
        [sys.executable, "bot.py", "migrate"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    server = subprocess.Popen(
        [sys.executable, "bot.py", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body, status = "", 0
        deadline = time.monotonic() + 60  # a loaded machine starts the server slowly
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read().decode()
                    status = r.status
                break
            except OSError:
                time.sleep(0.1)
        assert (status, body) == (200, '{"status": "ok"}')
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
            assert (r.status, r.read()) == (200, b'{"status": "ok"}')
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            scraped = r.read().decode()
        for series in (
            "eap_updates_received",
            "eap_updates_processed",
            "eap_handler_seconds",
            "eap_outbox_depth",
            "eap_outbox_oldest_seconds",
            "eap_send_failures",
            "eap_scheduler_runs",
            "eap_crisis_screens",
        ):
            assert f"# TYPE {series}" in scraped, series
        assert "eap_outbox_depth 0.0" in scraped
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr
    assert "Traceback" not in stderr
