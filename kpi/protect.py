"""Differential privacy for released KPIs: the privacy unit, the bounds, the noise and its error.

Privacy unit: one employee's plan year. A release (one organisation, one closed period) adds
discrete Laplace noise, drawn by OpenDP (`make_laplace` over integers), to every count it
publishes; rates, shares, means and changes are computed from the noisy counts afterwards, so
they cost nothing more. The noise of a count is scaled to what one unit can move it by:

- people (participants, users, repeat users, each department's): one person moves each by 1;
- bookings by status and domain, ledger entries, feedback prompts and answers, crisis episodes:
  one person's first CAP rows in the period count (CAP_MONTH or CAP_PLAN_YEAR), so one person
  moves a group of cells by at most CAP, and one booking moves it by 1;
- minutes: one hour (MINUTES_UNIT) counts as one unit; a satisfaction score of 5 as five.

Each figure spends UNIT_EPSILON per unit, so two figures read together (the attack HR can make
with any pair) tell at most 2 x UNIT_EPSILON about one unit: a best guess right about 56 % of the
time where chance is 50 %. A person at the bound spends CAP x UNIT_EPSILON in a group of cells;
`budget()` states the composition over a plan year. Releases are stored once and never change,
so asking again returns the same figure and averaging is impossible.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from functools import cache
from typing import Any

from kpi.metrics import DepartmentCounts, FeedbackCounts, PeriodCounts

UNIT_EPSILON = 0.12
SCALE = 1 / UNIT_EPSILON  # discrete Laplace scale for a count one unit moves by 1
CAP_MONTH = 4
CAP_PLAN_YEAR = 12
MINUTES_UNIT = 60
SATISFACTION_UNIT = 5
CONFIDENCE = 0.95
PRIVACY_UNIT = "one employee's plan year"

Noise = Callable[[float], int]
"""Draws one integer noise value of the given discrete Laplace scale."""


@cache
def _measurement(scale: float) -> Any:
    import opendp.prelude as dp  # imported here: loading the library takes a moment

    dp.enable_features("contrib")
    return dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=scale)


def warm_up() -> None:
    """Load OpenDP (several seconds) and build the measurements the releases use."""
    for unit in (1, MINUTES_UNIT, SATISFACTION_UNIT):
        _measurement(SCALE * unit)
    error(SCALE)


def opendp_noise(scale: float) -> int:
    """Discrete Laplace noise from OpenDP's sampler (a cryptographically secure source)."""
    return int(_measurement(scale)(0))


def seeded_noise(seed: int) -> Noise:
    """The same distribution from a seeded generator, for tests and simulations only."""
    rng = random.Random(seed)

    def draw(scale: float) -> int:
        keep = math.exp(-1 / scale)

        def geometric() -> int:
            return int(math.log(1 - rng.random()) / math.log(keep))

        return geometric() - geometric()

    return draw


@cache
def error(scale: float, confidence: float = CONFIDENCE) -> int:
    """Half-width of the interval that holds a count's noise with this confidence (OpenDP)."""
    import opendp.prelude as dp

    return math.ceil(dp.discrete_laplacian_scale_to_accuracy(scale, 1 - confidence))


def sum_error(scale: float, cells: int, confidence: float = CONFIDENCE) -> int:
    """Half-width for a sum of `cells` independent noisy counts (normal approximation)."""
    if cells <= 1:
        return error(scale, confidence)
    z = {0.95: 1.96}.get(confidence, 1.96)
    spread = math.sqrt(cells * 2 * math.exp(-1 / scale)) / (1 - math.exp(-1 / scale))
    return math.ceil(z * spread)


@dataclass(frozen=True)
class Errors:
    """95 % half-widths of a release's figures, in their own units."""

    people: int
    sessions: int
    minutes: int
    bookings: int
    feedback: int
    satisfaction_sum: int
    crisis_episodes: int

    def as_dict(self) -> dict[str, int]:
        """The errors as plain numbers, for the stored release."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def errors(domains: int) -> Errors:
    """The errors of a release whose sessions spread over `domains` domains."""
    return Errors(
        people=error(SCALE),
        sessions=sum_error(SCALE, domains),
        minutes=sum_error(SCALE * MINUTES_UNIT, domains),
        bookings=error(SCALE),
        feedback=error(SCALE),
        satisfaction_sum=error(SCALE * SATISFACTION_UNIT),
        crisis_episodes=error(SCALE),
    )


def _noisy(value: int, scale: float, noise: Noise) -> int:
    """A noisy count, left unbiased: it may be negative, and publishing hides it then."""
    return value + noise(scale)


def _people(value: int, scale: float, noise: Noise, most: int) -> int:
    return min(most, max(0, value + noise(scale)))


def _cells(values: Mapping[str, int], scale: float, noise: Noise) -> dict[str, int]:
    return {name: _noisy(value, scale, noise) for name, value in values.items()}


def protect(counts: PeriodCounts, noise: Noise) -> PeriodCounts:
    """The counts with noise on every figure a person's use can move; headcounts stay exact."""
    departments = {}
    for name, dept in counts.departments.items():
        participants = _people(dept.participants, SCALE, noise, dept.headcount)
        users = _people(dept.users, SCALE, noise, participants)
        departments[name] = DepartmentCounts(dept.headcount, participants, users)
    headcount = counts.headcount
    participants = _people(counts.participants, SCALE, noise, headcount)
    users = _people(counts.users, SCALE, noise, participants)
    f = counts.feedback
    feedback = FeedbackCounts(
        **{
            item.name: _noisy(
                getattr(f, item.name),
                SCALE * (SATISFACTION_UNIT if item.name == "satisfaction_sum" else 1),
                noise,
            )
            for item in fields(f)
        }
    )
    return replace(
        counts,
        departments=departments,
        totals=DepartmentCounts(headcount, participants, users),
        repeat_users=_people(counts.repeat_users, SCALE, noise, users),
        sessions=_cells(counts.sessions, SCALE, noise),
        statuses=_cells(counts.statuses, SCALE, noise),
        used_minutes=_cells(counts.used_minutes, SCALE * MINUTES_UNIT, noise),
        used_entries=_cells(counts.used_entries, SCALE, noise),
        feedback=feedback,
        crisis_events=_noisy(counts.crisis_events, SCALE, noise),
    )


def budget(releases_per_year: int, cap: int) -> dict[str, float]:
    """Epsilon spent on one person at the bound: per figure, per release, per plan year."""
    people = 3 * UNIT_EPSILON + 2 * UNIT_EPSILON  # totals and one department's two counts
    use = cap * UNIT_EPSILON * 4  # sessions, statuses, ledger entries, minutes (by domain)
    answers = cap * UNIT_EPSILON * (len(fields(FeedbackCounts)) - 1 + SATISFACTION_UNIT)
    crisis = cap * UNIT_EPSILON
    release = people + use + answers + crisis
    return {
        "unit": UNIT_EPSILON,
        "release": round(release, 2),
        "plan_year": round(release * releases_per_year, 1),
    }
