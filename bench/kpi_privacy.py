"""The protected KPI releases' accuracy, measured: python -m bench.kpi_privacy [--draws N].

Prints, for organisations of 200 and 2,000 employees, the stated 95 % error (OpenDP) and the
measured 95th percentile of the released rate's error over seeded draws, and how often the
figure is hidden (under the minimum group, or almost all / almost none).
"""

from __future__ import annotations

import argparse
from datetime import date

from kpi import protect, release
from kpi.anonymise import SUPPRESSED, Thresholds
from kpi.metrics import DepartmentCounts, Period, PeriodCounts

MONTH = Period(date(2026, 10, 1), date(2026, 11, 1))
SHARES = {"participation": 0.10, "utilization": 0.03}


def measure(headcount: int, draws: int) -> dict[str, tuple[float, float]]:
    """Per rate: the 95th percentile of |released - true| in points, and the share hidden."""
    true = {name: round(headcount * share) for name, share in SHARES.items()}
    counts = PeriodCounts(
        period=MONTH,
        minutes_per_year=480,
        departments={
            "all": DepartmentCounts(headcount, true["participation"], true["utilization"])
        },
    )
    noise = protect.seeded_noise(2026)
    errors: dict[str, list[float]] = {name: [] for name in SHARES}
    hidden = dict.fromkeys(SHARES, 0)
    for _ in range(draws):
        body = release.published(protect.protect(counts, noise), Thresholds(5, 5))
        for name in SHARES:
            rate = body[name]["rate"]
            if rate == SUPPRESSED:
                hidden[name] += 1
                continue
            errors[name].append(abs(rate - true[name] / headcount) * 100)
    result = {}
    for name, seen in errors.items():
        seen.sort()
        p95 = seen[int(0.95 * (len(seen) - 1))] if seen else float("nan")
        result[name] = (p95, hidden[name] / draws)
    return result


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=4000)
    args = parser.parse_args()
    stated = protect.error(protect.SCALE)
    print(
        f"method: discrete Laplace (OpenDP), {protect.UNIT_EPSILON} per unit, scale "
        f"{protect.SCALE:.2f}; unit {protect.PRIVACY_UNIT}; caps {protect.CAP_MONTH} a month, "
        f"{protect.CAP_PLAN_YEAR} a plan year"
    )
    print("| employees | rate (true) | stated 95 % error | measured 95 % error | hidden |")
    print("|---|---|---|---|---|")
    for headcount in (200, 2000):
        for name, (p95, hidden) in measure(headcount, args.draws).items():
            points = stated / headcount * 100
            print(
                f"| {headcount:,} | {name} ({SHARES[name]:.0%}) | ±{stated} people = "
                f"±{points:.1f} points | ±{p95:.1f} points | {hidden:.0%} |"
            )


if __name__ == "__main__":
    main()
