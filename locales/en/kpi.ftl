# Weekly KPI digest for HR (kpi/report.py). $state is shown, suppressed or none.

kpi-digest-title = 📊 { $organisation }: weekly EAP summary ({ $first_day } to { $last_day })
kpi-participation = { $state ->
    [shown] Participation: { $percent }% ({ $count } of { $headcount } employees)
    [suppressed] Participation: too few people to show
   *[none] Participation: no data yet
}
kpi-change-participation = { $state ->
    [shown]   vs last week: { $difference } percentage points (×{ $multiple })
    [suppressed]   vs last week: group under the minimum, not compared
   *[none]   vs last week: cannot compare
}
kpi-utilization = { $state ->
    [shown] Utilization: { $percent }% ({ $count } employees used counseling)
    [suppressed] Utilization: too few people to show
   *[none] Utilization: no data yet
}
kpi-change-utilization = { $state ->
    [shown]   vs last week: { $difference } percentage points (×{ $multiple })
    [suppressed]   vs last week: group under the minimum, not compared
   *[none]   vs last week: cannot compare
}
kpi-sessions = { $state ->
    [shown] Sessions held: { $sessions }
    [suppressed] Sessions held: too few to show
   *[none] Sessions held: no data yet
}
kpi-change-sessions = { $state ->
    [shown]   vs last week: { $difference } sessions (×{ $multiple })
    [suppressed]   vs last week: too few sessions to compare
   *[none]   vs last week: cannot compare
}
kpi-feedback = { $state ->
    [shown] Feedback rate: { $percent }% ({ $count } of { $prompts })
    [suppressed] Feedback rate: too few answers to show
   *[none] Feedback rate: no feedback prompts this week
}
kpi-satisfaction = { $state ->
    [shown] Mean satisfaction: { $mean } of 5
    [suppressed] Mean satisfaction: too few answers to show
   *[none] Mean satisfaction: no data yet
}
kpi-satisfied = { $state ->
    [shown] Satisfied (4–5): { $percent }%
    [suppressed] Satisfied: too few answers to show
   *[none] Satisfied: no data yet
}
kpi-resolved = { $state ->
    [shown] Problem resolved: { $percent }%
    [suppressed] Problem resolved: too few answers to show
   *[none] Problem resolved: no data yet
}
kpi-again = { $state ->
    [shown] Would use it again: { $percent }%
    [suppressed] Would use it again: too few answers to show
   *[none] Would use it again: no data yet
}
kpi-hours-year = { $state ->
    [shown] Hours used this plan year: { $used } of { $allotted } ({ $percent }%)
    [suppressed] Hours used this plan year: too few people to show
   *[none] Hours used this plan year: no data yet
}
kpi-crisis = { $state ->
    [shown] Crisis referrals: { $count }
    [suppressed] Crisis referrals: too few to show
   *[none] Crisis referrals: no data yet
}
kpi-suppression-note = To protect privacy, counts of people under { $people } (under { $usage } for counseling use) are not shown.
