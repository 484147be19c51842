"""`events parked` and `events retry`: what kept failing, shown without content, put back."""

from __future__ import annotations

import sqlite3

from tests.test_cli_crisis_ops import demo_db, run  # noqa: F401 (the fixture)


def test_parked_events_are_listed_without_content_and_put_back(demo_db, capsys) -> None:  # noqa: F811
    with sqlite3.connect(demo_db) as db:
        db.execute(
            "INSERT INTO processed_event (channel, event_id, payload, received_at, failures, "
            "parked_at) VALUES ('telegram', '991', '{\"text\": \"SECRET\"}', "
            "'2026-12-01 01:00:00.000000', 5, '2026-12-01 02:00:00.000000')"
        )
    code, text = run(capsys, "events", "parked")
    assert code == 0 and "received 2026-12-01 01:00" in text and "after 5 failures" in text
    assert "SECRET" not in text and "991" not in text and text.endswith("1 parked event(s)\n")
    code, text = run(capsys, "events", "retry")
    assert code == 0 and text.startswith("1 parked event(s) put back in line")
    with sqlite3.connect(demo_db) as db:
        assert db.execute("SELECT failures, parked_at FROM processed_event").fetchall() == [
            (0, None)
        ]
    assert run(capsys, "events", "parked") == (0, "0 parked event(s)\n")
