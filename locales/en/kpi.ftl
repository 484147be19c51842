# HR's KPI lines (kpi/report.py), from released figures only. $state is shown, suppressed or none.
# Every figure carries its 95% error: $error (percentage points for rates), $count_error (people).

kpi-digest-title = 📊 { $organisation }: released EAP figures ({ $first_day } to { $last_day })
kpi-participation = { $state ->
    [shown] Participation: { $percent }% (±{ $error } percentage points, 95%); { $count } (±{ $count_error }) of { $headcount } employees
    [suppressed] Participation: too few people, or almost all, to show
   *[none] Participation: no data yet
}
kpi-change-participation = { $state ->
    [shown]   vs the month before: { $difference } percentage points (±{ $error }, 95%; ×{ $multiple })
    [suppressed]   vs the month before: group under the minimum, not compared
   *[none]   vs the month before: cannot compare
}
kpi-utilization = { $state ->
    [shown] Utilization: { $percent }% (±{ $error } percentage points, 95%); { $count } (±{ $count_error }) employees used counseling
    [suppressed] Utilization: too few people, or almost all, to show
   *[none] Utilization: no data yet
}
kpi-change-utilization = { $state ->
    [shown]   vs the month before: { $difference } percentage points (±{ $error }, 95%; ×{ $multiple })
    [suppressed]   vs the month before: group under the minimum, not compared
   *[none]   vs the month before: cannot compare
}
kpi-sessions = { $state ->
    [shown] Sessions held: { $sessions } (±{ $error }, 95%)
    [suppressed] Sessions held: too few to show
   *[none] Sessions held: no data yet
}
kpi-change-sessions = { $state ->
    [shown]   vs the month before: { $difference } sessions (±{ $error }, 95%; ×{ $multiple })
    [suppressed]   vs the month before: too few sessions to compare
   *[none]   vs the month before: cannot compare
}
kpi-feedback = { $state ->
    [shown] Feedback rate: { $percent }% (±{ $error } percentage points, 95%); { $count } (±{ $count_error }) of { $prompts }
    [suppressed] Feedback rate: too few answers to show
   *[none] Feedback rate: no feedback prompts in this period
}
kpi-satisfaction = { $state ->
    [shown] Mean satisfaction: { $mean } of 5 (±{ $error }, 95%)
    [suppressed] Mean satisfaction: too few answers to show
   *[none] Mean satisfaction: no data yet
}
kpi-satisfied = { $state ->
    [shown] Satisfied (4–5): { $percent }% (±{ $error } percentage points, 95%)
    [suppressed] Satisfied: too few answers to show
   *[none] Satisfied: no data yet
}
kpi-resolved = { $state ->
    [shown] Problem resolved: { $percent }% (±{ $error } percentage points, 95%)
    [suppressed] Problem resolved: too few answers to show
   *[none] Problem resolved: no data yet
}
kpi-again = { $state ->
    [shown] Would use it again: { $percent }% (±{ $error } percentage points, 95%)
    [suppressed] Would use it again: too few answers to show
   *[none] Would use it again: no data yet
}
kpi-hours-year = { $state ->
    [shown] Hours used this plan year: { $used } (±{ $used_error }) of { $allotted } ({ $percent }%, ±{ $error } percentage points, 95%)
    [suppressed] Hours used this plan year: too few people to show
   *[none] Hours used this plan year: no data yet
}
kpi-crisis = { $state ->
    [shown] Crisis referrals: { $count } (±{ $error }, 95%)
    [suppressed] Crisis referrals: too few to show
   *[none] Crisis referrals: no data yet
}
kpi-suppression-note = To protect privacy, counts of people under { $people } (under { $usage } for counseling use) are not shown.
kpi-release-note = Released on { $released }; random noise protects each person, and ± is the 95% margin of error. Figures are released monthly, 14 days after the month ends: the next release is on { $next_release }.
kpi-not-released = No figures have been released yet. Figures are released monthly, 14 days after the month ends, so that every session is settled first: the next release is on { $next_release }.
