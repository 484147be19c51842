"""The crisis screen's CPU time per message (every inbound text goes through it).

Messages: tests/data/crisis_hits.txt, tests/data/crisis_misses.txt and the crisis corpus's test
part. Each is screened --rounds times, each call timed alone in CPU time
(time.process_time_ns), side by side:
- phrases only: the clinician phrase lists on the repaired text (the screen before the model);
- screen alone: handlers.crisis_screen.screen on the message by itself (what `crisis check`
  does);
- screen in a chat: screen with the three messages before it as context (what the dispatcher
  does, at most two screenings).
Reported: mean and p99 per message for each, the cold start (importing the screen and loading
the model in a fresh interpreter, which the server does in its warm-up), and the slowest of a
few long adversarial messages built to make a naive matcher backtrack.

Run: python -m bench.crisis [--rounds 20] [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import Figure, write_figures
from handlers.crisis_model import repair
from handlers.crisis_screen import CrisisPhrases, load_phrases, screen, warm_up

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CORPORA = ("crisis_hits.txt", "crisis_misses.txt")
TEST_PART = DATA / "crisis" / "test"
CONTEXT = 3  # earlier messages of the same chat screened together with each message
ADVERSARIAL = (
    "笑死" * 3000 + "想死",
    "go on the " * 500 + "kms",
    "想死你" * 1500 + "我想死",
    "想死你" * 1500,
    "l" * 10000,
)
COLD_START = (
    "import time; started = time.process_time(); "
    "from handlers.crisis_screen import warm_up; warm_up(); "
    "print(time.process_time() - started)"
)
SIDES = ("phrases only", "screen alone", "screen in a chat")


@dataclass
class Cost:
    """CPU time per screened message, in seconds, for each side."""

    messages: int
    per_message: dict[str, list[float]]
    adversarial: list[float]
    cold_start: float

    def mean_us(self, side: str) -> float:
        """Mean CPU microseconds per message."""
        return statistics.fmean(self.per_message[side]) * 1e6

    def p99_us(self, side: str) -> float:
        """99th percentile of CPU microseconds per message."""
        return statistics.quantiles(self.per_message[side], n=100, method="inclusive")[98] * 1e6

    @property
    def adversarial_max_ms(self) -> float:
        """CPU milliseconds of the slowest adversarial message."""
        return max(self.adversarial) * 1000


def messages() -> list[str]:
    """Every message of the two lists and of the corpus's test part."""
    found = []
    for name in CORPORA:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if text and not text.startswith("#"):
                found.append(text)
    for path in sorted(TEST_PART.glob("*.jsonl")):
        found += [
            json.loads(line)["text"]
            for line in path.read_text(encoding="utf-8").split("\n")
            if line.strip()
        ]
    return found


def cpu_time(call: Callable[..., object], *args: object, **kwargs: object) -> float:
    """CPU seconds one call takes."""
    started = time.process_time_ns()
    call(*args, **kwargs)
    return (time.process_time_ns() - started) / 1e9


def _phrases_only(phrases: CrisisPhrases, text: str) -> bool:
    """The screen before the model: clinician phrases on the repaired text."""
    return phrases.matches(repair(text))


def cold_start() -> float:
    """CPU seconds a fresh interpreter takes to import the screen and load its model."""
    done = subprocess.run(
        [sys.executable, "-c", COLD_START], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


def measure(rounds: int) -> Cost:
    """Screen every message `rounds` times on each side, and each adversarial message once."""
    corpus = messages()
    warm_up()
    phrases = load_phrases()
    per_message: dict[str, list[float]] = {side: [] for side in SIDES}
    for _ in range(rounds):
        for i, text in enumerate(corpus):
            context = corpus[max(0, i - CONTEXT) : i]
            per_message["phrases only"].append(cpu_time(_phrases_only, phrases, text))
            per_message["screen alone"].append(cpu_time(screen, text))
            per_message["screen in a chat"].append(cpu_time(screen, text, context=context))
    adversarial = [cpu_time(screen, text) for _ in range(rounds) for text in ADVERSARIAL]
    return Cost(len(corpus), per_message, adversarial, cold_start())


def figures(cost: Cost) -> list[Figure]:
    """The figures `python -m bench` collects."""
    found = []
    for side in SIDES:
        found.append(Figure(f"{side}: CPU per message mean", cost.mean_us(side), "µs"))
        found.append(Figure(f"{side}: CPU per message p99", cost.p99_us(side), "µs"))
    found.append(Figure("cold start (import and load)", cost.cold_start * 1000, "ms"))
    found.append(Figure("CPU per long adversarial message: max", cost.adversarial_max_ms, "ms"))
    return found


def cli() -> None:
    """Parse the command line, measure, print the figures, write them."""
    parser = argparse.ArgumentParser(prog="python -m bench.crisis", description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="times each message is screened")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 rounds")
    parser.add_argument("--json", help="write the figures here (for python -m bench)")
    args = parser.parse_args()
    cost = measure(2 if args.quick else args.rounds)
    rounds = len(cost.per_message[SIDES[0]]) // cost.messages
    print(f"{cost.messages} messages x {rounds} rounds, CPU per message:")
    print(f"{'':18} {'mean µs':>9} {'p99 µs':>9}")
    for side in SIDES:
        print(f"{side:18} {cost.mean_us(side):9.1f} {cost.p99_us(side):9.1f}")
    print(
        f"cold start {cost.cold_start * 1000:.0f} ms; slowest long adversarial message "
        f"{cost.adversarial_max_ms:.1f} ms"
    )
    write_figures(args.json, figures(cost), messages=cost.messages)


if __name__ == "__main__":
    cli()
