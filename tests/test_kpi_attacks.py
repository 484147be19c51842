"""HR as an attacker: every pair of released figures, 1,000 seeded trials per attack.

The attacker knows every other employee's use exactly (the differential-privacy adversary),
the noise distribution and the release rules, reads two released figures and makes the best
guess (the likelihood ratio) of what one chosen person did in a hidden period: whether they had
a session, in which domain, whether they had a crisis episode. Chance is 50 %; the releases must
keep the best guess at or under 60 %. The same attacks against today's unprotected publication
(the live counts through k-suppression only) are right almost every time.

Pairs that read one stored release twice (a held session, a crisis or a roster import between
two presses) give the attacker two identical figures: tests/test_kpi_release.py shows a release
never moves.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from kpi import protect, release
from kpi.anonymise import SUPPRESSED, Thresholds, publish
from kpi.metrics import DepartmentCounts, FeedbackCounts, Period, PeriodCounts

TRIALS = 1_000
LIMIT = 0.60
DOMAINS = ("psychology", "legal", "finance", "nutrition")
DEPARTMENTS = ("D0", "D1", "D2", "D3", "D4")
K = Thresholds(people=5, usage=10)
MONTH = Period(date(2026, 10, 1), date(2026, 11, 1))
BEFORE = Period(date(2026, 1, 1), date(2026, 10, 1))
YEAR = Period(date(2026, 1, 1), date(2026, 11, 1))

Publisher = Callable[[PeriodCounts, random.Random], dict[str, Any]]
Reader = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Use:
    """What the chosen person did in the hidden month, in one world."""

    session: str | None = None  # the domain of their one session
    crisis: bool = False


@dataclass(frozen=True)
class Others:
    """Everyone else's use: month and plan-year counts, drawn per trial."""

    month: dict[str, tuple[int, int, int]]
    before: dict[str, tuple[int, int, int]]
    sessions: dict[str, int]
    crisis: tuple[int, int]


def others(rng: random.Random, headcount: int) -> Others:
    """A plausible organisation of 5 departments around the chosen person."""
    size = headcount // len(DEPARTMENTS)

    def people(low: int, high: int) -> dict[str, tuple[int, int, int]]:
        drawn = {}
        for name in DEPARTMENTS:
            users = rng.randint(low, high)
            drawn[name] = (size, min(size - 10, users * 3), users)
        return drawn

    return Others(
        month=people(size // 40, size // 15),
        before=people(size // 10, size // 5),
        sessions={name: rng.randint(10, 40) for name in DOMAINS},
        crisis=(rng.randint(10, 20), rng.randint(40, 90)),
    )


def counts(
    period: Period,
    people: dict[str, tuple[int, int, int]],
    sessions: dict[str, int],
    crisis: int,
) -> PeriodCounts:
    """Period counts as the release job would read them."""
    held = sum(sessions.values())
    return PeriodCounts(
        period=period,
        minutes_per_year=480,
        departments={n: DepartmentCounts(*v) for n, v in people.items()},
        repeat_users=sum(v[2] for v in people.values()) // 3,
        sessions=dict(sessions),
        statuses={"held": held, "no_show": held // 10, "cancelled": held // 5},
        used_minutes={n: 60 * s for n, s in sessions.items()},
        used_entries=dict(sessions),
        feedback=FeedbackCounts(prompts=held, answered=held // 2),
        crisis_events=crisis,
    )


def world(base: Others, use: Use) -> tuple[PeriodCounts, PeriodCounts, PeriodCounts]:
    """The plan year before the month, the month and the plan year to its end, with `use`."""
    month, year = dict(base.month), {}
    sessions = dict(base.sessions)
    if use.session:
        size, acted, users = month["D0"]
        month["D0"] = (size, acted + 1, users + 1)
        sessions[use.session] += 1
    for name in DEPARTMENTS:
        size, acted, users = base.before[name]
        _, m_acted, m_users = month[name]
        year[name] = (size, acted + m_acted, users + m_users)
    crisis = base.crisis[0] + (1 if use.crisis else 0)
    year_sessions = {n: 3 * s + sessions[n] for n, s in base.sessions.items()}
    return (
        counts(BEFORE, base.before, {n: 3 * s for n, s in base.sessions.items()}, base.crisis[1]),
        counts(MONTH, month, sessions, crisis),
        counts(YEAR, year, year_sessions, base.crisis[1] + crisis),
    )


def protected(counts: PeriodCounts, rng: random.Random) -> dict[str, Any]:
    """What the product releases: protected counts, published."""
    return release.published(protect.protect(counts, protect.seeded_noise(rng.getrandbits(32))), K)


def unprotected(counts: PeriodCounts, rng: random.Random) -> dict[str, Any]:
    """What the product published before releases: live counts, k-suppression only."""
    return publish(counts, K)


def users(body: dict[str, Any]) -> Any:
    return body["utilization"]["count"]


def participants(body: dict[str, Any]) -> Any:
    return body["participation"]["count"]


def department_users(body: dict[str, Any]) -> Any:
    rows = body["departments"]["utilization"]
    return (
        SUPPRESSED if rows is None else next(r["count"] for r in rows if r["department"] == "D0")
    )


def crisis(body: dict[str, Any]) -> Any:
    return body["crisis_referrals"]


def sessions_in(domain: str) -> Reader:
    def read(body: dict[str, Any]) -> Any:
        return body["sessions"]["by_domain"][domain]["sessions"]

    return read


@dataclass(frozen=True)
class Attack:
    """Two released figures (release index 0 = plan year before, 1 = month, 2 = plan year)."""

    name: str
    yes: Use
    no: Use
    first: tuple[int, Reader]
    second: tuple[int, Reader]


ATTACKS = [
    Attack(
        "consecutive plan-year checkpoints: a session",
        Use("psychology"),
        Use(),
        (0, users),
        (2, users),
    ),
    Attack("month against plan year: a session", Use("psychology"), Use(), (1, users), (2, users)),
    Attack(
        "month against plan year: taking part",
        Use("legal"),
        Use(),
        (1, participants),
        (2, participants),
    ),
    Attack(
        "department against total: a session",
        Use("finance"),
        Use(),
        (1, department_users),
        (1, users),
    ),
    Attack(
        "which domain",
        Use("psychology"),
        Use("legal"),
        (1, sessions_in("psychology")),
        (1, sessions_in("legal")),
    ),
    Attack(
        "month against plan year: a crisis episode",
        Use(crisis=True),
        Use(),
        (1, crisis),
        (2, crisis),
    ),
]


def truth(counts: tuple[PeriodCounts, ...], at: tuple[int, Reader]) -> Any:
    """The figure without noise or suppression, as the all-knowing attacker computes it."""
    return at[1](release.published(counts[at[0]], Thresholds(people=1, usage=1)))


def score(observed: Any, expected: Any, scale: float) -> float:
    """Log-likelihood of an observed figure under discrete Laplace noise around `expected`."""
    if observed == SUPPRESSED or expected == SUPPRESSED:
        return 0.0
    return -abs(observed - expected) / scale


def accuracy(attack: Attack, publisher: Publisher, headcount: int, seed: int = 20) -> float:
    """How often the best guess from the two figures is right, over TRIALS seeded trials."""
    rng = random.Random(seed)
    right = 0
    for _ in range(TRIALS):
        base = others(rng, headcount)
        worlds = {True: world(base, attack.yes), False: world(base, attack.no)}
        truly = rng.random() < 0.5
        read = {attack.first[0], attack.second[0]}
        shown = {i: publisher(worlds[truly][i], rng) for i in sorted(read)}
        evidence = 0.0
        for at in (attack.first, attack.second):
            observed = at[1](shown[at[0]])
            evidence += score(observed, truth(worlds[True], at), protect.SCALE)
            evidence -= score(observed, truth(worlds[False], at), protect.SCALE)
        guess = evidence > 0 if evidence else rng.random() < 0.5
        right += guess == truly
    return right / TRIALS


@pytest.mark.parametrize("headcount", [2_000, 200])
@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_released_figures_keep_every_best_guess_near_chance(
    attack: Attack, headcount: int
) -> None:
    assert accuracy(attack, protected, headcount) <= LIMIT


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_the_same_attacks_open_the_unprotected_figures(attack: Attack) -> None:
    assert accuracy(attack, unprotected, 2_000) >= 0.95
