"""The only way figures leave kpi/: suppression rules over raw counts, in one place.

Thresholds: k_people = max(5, min_group_size) for headcount-type counts (headcount,
participants) and k_usage = max(5, min_group_size_usage) for anything derived from counseling
use (users, sessions, minutes, no-shows, cancellations, feedback, crisis referrals).

Rules, in the order applied:

1. Primary: a count from 1 to k-1 is replaced by SUPPRESSED. A 0 is shown: it says that nobody
   did something, which is about the group and singles out no one (common practice).
2. Complementary: cells that add up to a published total form a group (sessions by domain, hours
   by domain, months of a year, and every rate's "yes" and "no" parts, because a count with its
   rate gives away the denominator). If a group has a suppressed cell, the next smallest
   non-zero cells are suppressed too until at least two are hidden and together they hold at
   least k, so no hidden cell can be recovered by subtraction or pinned by its bounds.
3. Ratios: a rate, share or mean is suppressed when its numerator or denominator is; it is None
   (not applicable) when the denominator is 0.
4. Changes against the previous period (difference and growth multiple) are suppressed when, in
   either period, the figure is suppressed or its group is under the minimum (0 included).
5. A department breakdown is published only when every department meets the minimum: headcount
   >= k_people and each department's count and its complement (the rest of the department)
   are 0 or >= k; otherwise the whole breakdown is None.

The published structure holds only numbers, labels (domain and department names, ISO dates)
and the SUPPRESSED marker: no identifier, pseudonym, note or comment ever reaches it.

Known limit: figures of overlapping periods published at different times (the plan year to
date of two consecutive weeks, a month against the weeks inside it) can still be subtracted
from each other. Snapshots change only once a week to narrow this; closing it fully needs
rounding or an audit against earlier publications.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kpi.metrics import PeriodCounts
from storage.models import BookingStatus, Organisation

SUPPRESSED = "suppressed"
SMALLEST_GROUP = 5
Number = int | float
Published = Number | str | None


@dataclass(frozen=True)
class Thresholds:
    """Minimum group sizes: for headcount-type counts and for counseling-use counts."""

    people: int
    usage: int


def thresholds(org: Organisation) -> Thresholds:
    """The organisation's minimum group sizes, never below 5."""
    return Thresholds(
        people=max(SMALLEST_GROUP, org.min_group_size or 0),
        usage=max(SMALLEST_GROUP, org.min_group_size_usage or 0),
    )


def is_small(count: int, k: int) -> bool:
    """Whether a count is under the minimum and not 0 (rule 1); a noisy count below 0 is too."""
    return count != 0 and count < k


def primary(count: int, k: int) -> Published:
    """A single count with primary suppression."""
    return SUPPRESSED if is_small(count, k) else count


def hidden_cells(sizes: Mapping[str, int], k: int) -> set[str]:
    """Names of the cells to hide in a group adding up to a published total (rules 1 and 2)."""
    hidden = {name for name, size in sizes.items() if is_small(size, k)}
    if not hidden:
        return hidden
    candidates = sorted((size, name) for name, size in sizes.items() if size >= k)
    while candidates and (len(hidden) < 2 or sum(sizes[n] for n in hidden) < k):
        hidden.add(candidates.pop(0)[1])
    return hidden


def suppress_group(
    values: Mapping[str, Number], k: int, *, sizes: Mapping[str, int] | None = None
) -> dict[str, Published]:
    """Publish a group of cells with primary and complementary suppression."""
    hidden = hidden_cells(sizes if sizes is not None else values, k)  # type: ignore[arg-type]
    return {name: SUPPRESSED if name in hidden else value for name, value in values.items()}


def publish_rate(
    numerator: int, denominator: int, k: int, *, digits: int = 4
) -> dict[str, Published]:
    """A count and its rate; the count's complement in the denominator is its group."""
    if denominator == 0:
        return {"count": 0, "rate": None}
    cells = suppress_group({"yes": numerator, "no": denominator - numerator}, k)
    if cells["yes"] == SUPPRESSED or is_small(denominator, k):
        return {"count": SUPPRESSED, "rate": SUPPRESSED}
    return {"count": numerator, "rate": round(numerator / denominator, digits)}


def publish_mean(total: int, count: int, k: int) -> Published:
    """A mean over `count` answers; suppressed when they are too few."""
    if count == 0:
        return None
    return SUPPRESSED if count < k else round(total / count, 2)


def _headcount_rate(numerator: int, headcount: int, k: int, k_people: int) -> dict[str, Published]:
    if is_small(headcount, k_people):
        return {"count": primary(numerator, k), "rate": SUPPRESSED}
    return publish_rate(numerator, headcount, k)


def _hours(counts: PeriodCounts, t: Thresholds) -> dict[str, Published]:
    entries = sum(counts.used_entries.values())
    used = SUPPRESSED if is_small(entries, t.usage) else counts.minutes_used
    allotted = SUPPRESSED if is_small(counts.headcount, t.people) else counts.allotted_minutes
    rate: Published = None
    if SUPPRESSED in (used, allotted):
        rate = SUPPRESSED
    elif counts.allotted_minutes:
        rate = round(counts.minutes_used / counts.allotted_minutes, 4)
    return {"used_minutes": used, "allotted_minutes": allotted, "rate": rate}


def _domains(counts: PeriodCounts, t: Thresholds) -> dict[str, dict[str, Published]]:
    total = counts.sessions_held
    sessions = suppress_group(counts.sessions, t.usage)
    minutes = suppress_group(counts.used_minutes, t.usage, sizes=counts.used_entries)
    result = {}
    for name in dict.fromkeys([*sessions, *minutes]):
        shown = sessions.get(name, 0)
        share: Published = None
        if shown == SUPPRESSED or is_small(total, t.usage):
            share = SUPPRESSED
        elif total:
            share = round(counts.sessions.get(name, 0) / total, 4)
        result[name] = {"sessions": shown, "minutes": minutes.get(name, 0), "share": share}
    return result


def _sessions(counts: PeriodCounts, t: Thresholds) -> dict[str, Any]:
    return {
        "total": primary(counts.sessions_held, t.usage),
        "by_domain": _domains(counts, t),
    }


def _feedback(counts: PeriodCounts, t: Thresholds) -> dict[str, Published]:
    f = counts.feedback
    answered = publish_rate(f.answered, f.prompts, t.usage)
    return {
        "prompts": primary(f.prompts, t.usage),
        "answered": answered["count"],
        "rate": answered["rate"],
        "satisfied_share": publish_rate(f.satisfied, f.satisfaction_answers, t.usage)["rate"],
        "satisfaction_mean": publish_mean(f.satisfaction_sum, f.satisfaction_answers, t.usage),
        "resolved_share": publish_rate(f.resolved_yes, f.resolved_answers, t.usage)["rate"],
        "again_share": publish_rate(f.again_yes, f.again_answers, t.usage)["rate"],
    }


def _department_rows(
    counts: PeriodCounts, attribute: str, k: int, t: Thresholds
) -> list[dict[str, Published]] | None:
    rows: list[dict[str, Published]] = []
    for name, dept in sorted(counts.departments.items()):
        count = getattr(dept, attribute)
        unsafe = is_small(count, k) or is_small(dept.headcount - count, k)
        if dept.headcount < t.people or unsafe:
            return None
        rows.append({"department": name, "count": count, "rate": round(count / dept.headcount, 4)})
    return rows


def publish_departments(counts: PeriodCounts, t: Thresholds) -> dict[str, Any]:
    """Department breakdowns of headcount, participation and utilization, each all or None."""
    headcount = _department_rows(counts, "headcount", t.people, t)
    if headcount is not None:
        headcount = [{"department": r["department"], "count": r["count"]} for r in headcount]
    return {
        "headcount": headcount,
        "participation": _department_rows(counts, "participants", t.people, t),
        "utilization": _department_rows(counts, "users", t.usage, t),
    }


def publish_period(counts: PeriodCounts, t: Thresholds) -> dict[str, Any]:
    """Every KPI of one period, anonymised (rules 1, 2, 3 and 5)."""
    status = counts.status
    return {
        "period": {"start": counts.period.start.isoformat(), "end": counts.period.end.isoformat()},
        "min_group": {"people": t.people, "usage": t.usage},
        "headcount": primary(counts.headcount, t.people),
        "participation": _headcount_rate(
            counts.participants, counts.headcount, t.people, t.people
        ),
        "utilization": _headcount_rate(counts.users, counts.headcount, t.usage, t.people),
        "repeat_use": publish_rate(counts.repeat_users, counts.users, t.usage),
        "hours": _hours(counts, t),
        "sessions": _sessions(counts, t),
        "no_show": publish_rate(status(BookingStatus.NO_SHOW), counts.attended_or_missed, t.usage),
        "late_cancel": publish_rate(
            status(BookingStatus.LATE_CANCELLED), counts.concluded, t.usage
        ),
        "feedback": _feedback(counts, t),
        "crisis_referrals": primary(counts.crisis_events, t.usage),
        "departments": publish_departments(counts, t),
    }


def publish_change(
    current: Sequence[int], previous: Sequence[int], values: tuple[Published, Published], k: int
) -> dict[str, Number | None] | str:
    """The difference and growth multiple of a figure, or SUPPRESSED (rule 4)."""
    now, before = values
    if any(n < k for n in (*current, *previous)) or SUPPRESSED in (now, before):
        return SUPPRESSED
    if not isinstance(now, int | float) or not isinstance(before, int | float):
        return SUPPRESSED
    return {
        "difference": round(now - before, 4),
        "multiple": round(now / before, 2) if before else None,
    }


def _changes(cur: PeriodCounts, prev: PeriodCounts, t: Thresholds) -> dict[str, Any]:
    a, b = publish_period(cur, t), publish_period(prev, t)

    def both(*path: str) -> tuple[Published, Published]:
        return _dig(a, path), _dig(b, path)

    f, g = cur.feedback, prev.feedback
    return {
        "participants": publish_change(
            [cur.participants], [prev.participants], both("participation", "count"), t.people
        ),
        "participation": publish_change(
            [cur.participants], [prev.participants], both("participation", "rate"), t.people
        ),
        "users": publish_change([cur.users], [prev.users], both("utilization", "count"), t.usage),
        "utilization": publish_change(
            [cur.users], [prev.users], both("utilization", "rate"), t.usage
        ),
        "sessions": publish_change(
            [cur.sessions_held], [prev.sessions_held], both("sessions", "total"), t.usage
        ),
        "feedback_rate": publish_change(
            [f.answered, f.prompts], [g.answered, g.prompts], both("feedback", "rate"), t.usage
        ),
    }


def _dig(tree: Mapping[str, Any], path: Sequence[str]) -> Published:
    node: Any = tree
    for part in path:
        node = node[part]
    return node  # type: ignore[no-any-return]


def publish(
    counts: PeriodCounts, t: Thresholds, *, previous: PeriodCounts | None = None
) -> dict[str, Any]:
    """The published KPIs of a period, with changes against `previous` when given."""
    body = publish_period(counts, t)
    if previous is not None:
        body["previous_period"] = {
            "start": previous.period.start.isoformat(),
            "end": previous.period.end.isoformat(),
        }
        body["change"] = _changes(counts, previous, t)
    return body


def publish_months(months: Sequence[PeriodCounts], t: Thresholds) -> list[dict[str, Any]]:
    """One row per month of a year; additive counts get complementary suppression across months."""
    names = [m.period.start.isoformat() for m in months]
    sessions = suppress_group(
        {n: m.sessions_held for n, m in zip(names, months, strict=True)}, t.usage
    )
    minutes = suppress_group(
        {n: m.minutes_used for n, m in zip(names, months, strict=True)},
        t.usage,
        sizes={n: sum(m.used_entries.values()) for n, m in zip(names, months, strict=True)},
    )
    rows = []
    for name, month in zip(names, months, strict=True):
        published = publish_period(month, t)
        rows.append(
            {
                "period": published["period"],
                "participation": published["participation"],
                "utilization": published["utilization"],
                "sessions": sessions[name],
                "used_minutes": minutes[name],
                "feedback_rate": published["feedback"]["rate"],
                "satisfaction_mean": published["feedback"]["satisfaction_mean"],
            }
        )
    return rows


def is_suppressed(value: object) -> bool:
    """Whether a published value is the suppression marker."""
    return value == SUPPRESSED
