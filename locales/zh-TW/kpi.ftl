# Weekly KPI digest for HR (kpi/report.py). $state is shown, suppressed or none.

kpi-digest-title = 📊 { $organisation } 員工協助方案每週摘要（{ $first_day } 至 { $last_day }）
kpi-participation = { $state ->
    [shown] 參與率：{ $percent }%（{ $count }／{ $headcount } 人）
    [suppressed] 參與率：人數過少，不予顯示
   *[none] 參與率：尚無資料
}
kpi-change-participation = { $state ->
    [shown] 較前週：{ $difference } 個百分點（{ $multiple } 倍）
    [suppressed] 較前週：人數未達門檻，不予比較
   *[none] 較前週：無法比較
}
kpi-utilization = { $state ->
    [shown] 使用率：{ $percent }%（{ $count } 人使用諮詢）
    [suppressed] 使用率：人數過少，不予顯示
   *[none] 使用率：尚無資料
}
kpi-change-utilization = { $state ->
    [shown] 較前週：{ $difference } 個百分點（{ $multiple } 倍）
    [suppressed] 較前週：人數未達門檻，不予比較
   *[none] 較前週：無法比較
}
kpi-sessions = { $state ->
    [shown] 諮詢場次：{ $sessions } 場
    [suppressed] 諮詢場次：場次過少，不予顯示
   *[none] 諮詢場次：尚無資料
}
kpi-change-sessions = { $state ->
    [shown] 較前週：{ $difference } 場（{ $multiple } 倍）
    [suppressed] 較前週：場次未達門檻，不予比較
   *[none] 較前週：無法比較
}
kpi-feedback = { $state ->
    [shown] 回饋率：{ $percent }%（{ $count }／{ $prompts } 份）
    [suppressed] 回饋率：份數過少，不予顯示
   *[none] 回饋率：本週沒有回饋邀請
}
kpi-satisfaction = { $state ->
    [shown] 平均滿意度：{ $mean }／5
    [suppressed] 平均滿意度：份數過少，不予顯示
   *[none] 平均滿意度：尚無資料
}
kpi-satisfied = { $state ->
    [shown] 滿意（4–5 分）比例：{ $percent }%
    [suppressed] 滿意比例：份數過少，不予顯示
   *[none] 滿意比例：尚無資料
}
kpi-resolved = { $state ->
    [shown] 問題已解決：{ $percent }%
    [suppressed] 問題已解決：份數過少，不予顯示
   *[none] 問題已解決：尚無資料
}
kpi-again = { $state ->
    [shown] 願意再使用：{ $percent }%
    [suppressed] 願意再使用：份數過少，不予顯示
   *[none] 願意再使用：尚無資料
}
kpi-hours-year = { $state ->
    [shown] 本計畫年度已使用時數：{ $used }／{ $allotted } 小時（{ $percent }%）
    [suppressed] 本計畫年度已使用時數：人數過少，不予顯示
   *[none] 本計畫年度已使用時數：尚無資料
}
kpi-crisis = { $state ->
    [shown] 危機轉介：{ $count } 次
    [suppressed] 危機轉介：次數過少，不予顯示
   *[none] 危機轉介：尚無資料
}
kpi-suppression-note = 為保護個人隱私，人數類少於 { $people } 人、諮詢使用類少於 { $usage } 人的數字不予顯示。
