"""The crisis screen's CPU time per message (every inbound text goes through it).

Each message of tests/data/crisis_hits.txt and tests/data/crisis_misses.txt is screened by
handlers.crisis_screen.is_crisis, each call timed alone in CPU time (time.process_time_ns),
--rounds times over; the phrases are loaded first. Reported: mean and p99 per message, and the
slowest of a few long adversarial messages (10,000 to 30,000 characters built to make a naive
matcher backtrack), which tests only check for the right answer.

Run: python -m bench.crisis [--rounds 20] [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import Figure, write_figures
from handlers.crisis_screen import is_crisis

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CORPORA = ("crisis_hits.txt", "crisis_misses.txt")
ADVERSARIAL = (
    "笑死" * 3000 + "想死",
    "go on the " * 500 + "kms",
    "想死你" * 1500 + "我想死",
    "想死你" * 1500,
    "l" * 10000,
)


@dataclass
class Cost:
    """CPU time per screened message, in seconds."""

    messages: int
    per_message: list[float]
    adversarial: list[float]

    @property
    def mean_us(self) -> float:
        """Mean CPU microseconds per corpus message."""
        return statistics.fmean(self.per_message) * 1e6

    @property
    def p99_us(self) -> float:
        """99th percentile of CPU microseconds per corpus message."""
        return statistics.quantiles(self.per_message, n=100, method="inclusive")[98] * 1e6

    @property
    def adversarial_max_ms(self) -> float:
        """CPU milliseconds of the slowest adversarial message."""
        return max(self.adversarial) * 1000


def messages() -> list[str]:
    """Every message of the two corpora (lines that are neither blank nor # notes)."""
    found = []
    for name in CORPORA:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if text and not text.startswith("#"):
                found.append(text)
    return found


def cpu_time(text: str) -> float:
    """CPU seconds one screening of `text` takes."""
    started = time.process_time_ns()
    is_crisis(text)
    return (time.process_time_ns() - started) / 1e9


def measure(rounds: int) -> Cost:
    """Screen every corpus message `rounds` times and each adversarial message once a round."""
    corpus = messages()
    is_crisis("")  # load and compile the phrases outside the timing
    per_message = [cpu_time(text) for _ in range(rounds) for text in corpus]
    adversarial = [cpu_time(text) for _ in range(rounds) for text in ADVERSARIAL]
    return Cost(len(corpus), per_message, adversarial)


def figures(cost: Cost) -> list[Figure]:
    """The figures `python -m bench` collects."""
    return [
        Figure("CPU per message: mean", cost.mean_us, "µs"),
        Figure("CPU per message: p99", cost.p99_us, "µs"),
        Figure("CPU per long adversarial message: max", cost.adversarial_max_ms, "ms"),
    ]


def cli() -> None:
    """Parse the command line, measure, print the figures, write them."""
    parser = argparse.ArgumentParser(prog="python -m bench.crisis", description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="times each message is screened")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 rounds")
    parser.add_argument("--json", help="write the figures here (for python -m bench)")
    args = parser.parse_args()
    cost = measure(2 if args.quick else args.rounds)
    print(
        f"{cost.messages} messages x {len(cost.per_message) // cost.messages} rounds: CPU per "
        f"message mean {cost.mean_us:.1f} µs, p99 {cost.p99_us:.1f} µs; slowest long "
        f"adversarial message {cost.adversarial_max_ms:.1f} ms"
    )
    write_figures(args.json, figures(cost), messages=cost.messages)


if __name__ == "__main__":
    cli()
