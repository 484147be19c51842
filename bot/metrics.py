"""Prometheus metrics: what an operator watches (never labels with personal data)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES_RECEIVED = Counter(
    "eap_updates_received",
    "Platform events accepted by a webhook or poll",
    ["channel"],
    registry=REGISTRY,
)
UPDATES_DUPLICATE = Counter(
    "eap_updates_duplicate",
    "Platform events dropped as already seen",
    ["channel"],
    registry=REGISTRY,
)
UPDATES_PROCESSED = Counter(
    "eap_updates_processed", "Platform events processed", ["channel"], registry=REGISTRY
)
HANDLER_SECONDS = Histogram(
    "eap_handler_seconds",
    "Time to handle one turn",
    ["handler"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
MESSAGES_SENT = Counter(
    "eap_messages_sent", "Outbox messages delivered", ["channel"], registry=REGISTRY
)
SEND_FAILURES = Counter(
    "eap_send_failures",
    "Failed send attempts by reason",
    ["channel", "reason"],
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge("eap_outbox_depth", "Pending outbox messages", registry=REGISTRY)
OUTBOX_OLDEST_SECONDS = Gauge(
    "eap_outbox_oldest_seconds", "Age of the oldest pending outbox message", registry=REGISTRY
)
SCHEDULER_RUNS = Counter(
    "eap_scheduler_runs",
    "Scheduled job runs by job and outcome",
    ["job", "outcome"],
    registry=REGISTRY,
)
CRISIS_SCREENS = Counter(
    "eap_crisis_screens", "Messages the crisis screen answered", registry=REGISTRY
)
CRISIS_CHECK_INS = Counter(
    "eap_crisis_check_ins", "Messages the screen read as a concern (a check-in)", registry=REGISTRY
)
SCHEDULER_LEADER = Gauge(
    "eap_scheduler_leader", "1 while this process is the scheduler leader", registry=REGISTRY
)
EVENTS_PARKED = Counter(
    "eap_events_parked",
    "Stored events set aside after failing too often (python bot.py events retry)",
    ["channel"],
    registry=REGISTRY,
)
FLOOD_LIMITED = Counter(
    "eap_flood_limited", "Messages held back by flood control", registry=REGISTRY
)


def exposition() -> bytes:
    """The metrics in Prometheus text format."""
    return generate_latest(REGISTRY)


def reason_of(error: str) -> str:
    """A bounded label for a send failure (e.g. 'HTTP 429' -> '429')."""
    digits = "".join(ch for ch in error if ch.isdigit())[:3]
    return digits if len(digits) == 3 else "network"
