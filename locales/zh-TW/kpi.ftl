# HR's KPI lines (kpi/report.py), from released figures only. $state is shown, suppressed or none.
# Every figure carries its 95% error: $error (percentage points for rates), $count_error (people).

kpi-digest-title = 📊 { $organisation } 員工協助方案已發布數據（{ $first_day } 至 { $last_day }）
kpi-participation = { $state ->
    [shown] 參與率 { $percent }%（±{ $error } 個百分點，95%）；{ $count } 人（±{ $count_error } 人）／{ $headcount } 人
    [suppressed] 參與率：人數過少或接近全數，不予顯示
   *[none] 參與率：尚無資料
}
kpi-change-participation = { $state ->
    [shown] 較前月：{ $difference } 個百分點（±{ $error }，95%；{ $multiple } 倍）
    [suppressed] 較前月：人數未達門檻，不予比較
   *[none] 較前月：無法比較
}
kpi-utilization = { $state ->
    [shown] 使用率 { $percent }%（±{ $error } 個百分點，95%）；{ $count } 人（±{ $count_error } 人）使用諮詢
    [suppressed] 使用率：人數過少或接近全數，不予顯示
   *[none] 使用率：尚無資料
}
kpi-change-utilization = { $state ->
    [shown] 較前月：{ $difference } 個百分點（±{ $error }，95%；{ $multiple } 倍）
    [suppressed] 較前月：人數未達門檻，不予比較
   *[none] 較前月：無法比較
}
kpi-sessions = { $state ->
    [shown] 諮詢場次：{ $sessions } 場（±{ $error } 場，95%）
    [suppressed] 諮詢場次：場次過少，不予顯示
   *[none] 諮詢場次：尚無資料
}
kpi-change-sessions = { $state ->
    [shown] 較前月：{ $difference } 場（±{ $error } 場，95%；{ $multiple } 倍）
    [suppressed] 較前月：場次未達門檻，不予比較
   *[none] 較前月：無法比較
}
kpi-feedback = { $state ->
    [shown] 回饋率 { $percent }%（±{ $error } 個百分點，95%）；{ $count } 份（±{ $count_error } 份）／{ $prompts } 份
    [suppressed] 回饋率：份數過少，不予顯示
   *[none] 回饋率：本期沒有回饋邀請
}
kpi-satisfaction = { $state ->
    [shown] 平均滿意度：{ $mean }／5（±{ $error }，95%）
    [suppressed] 平均滿意度：份數過少，不予顯示
   *[none] 平均滿意度：尚無資料
}
kpi-satisfied = { $state ->
    [shown] 滿意（4–5 分）比例：{ $percent }%（±{ $error } 個百分點，95%）
    [suppressed] 滿意比例：份數過少，不予顯示
   *[none] 滿意比例：尚無資料
}
kpi-resolved = { $state ->
    [shown] 問題已解決：{ $percent }%（±{ $error } 個百分點，95%）
    [suppressed] 問題已解決：份數過少，不予顯示
   *[none] 問題已解決：尚無資料
}
kpi-again = { $state ->
    [shown] 願意再使用：{ $percent }%（±{ $error } 個百分點，95%）
    [suppressed] 願意再使用：份數過少，不予顯示
   *[none] 願意再使用：尚無資料
}
kpi-hours-year = { $state ->
    [shown] 本計畫年度已使用時數：{ $used } 小時（±{ $used_error } 小時）／{ $allotted } 小時（{ $percent }%，±{ $error } 個百分點，95%）
    [suppressed] 本計畫年度已使用時數：人數過少，不予顯示
   *[none] 本計畫年度已使用時數：尚無資料
}
kpi-crisis = { $state ->
    [shown] 危機轉介：{ $count } 次（±{ $error } 次，95%）
    [suppressed] 危機轉介：次數過少，不予顯示
   *[none] 危機轉介：尚無資料
}
kpi-suppression-note = 為保護個人隱私，人數類少於 { $people } 人、諮詢使用類少於 { $usage } 人的數字不予顯示。
kpi-release-note = 本數據於 { $released } 發布，已加入隨機干擾以保護每位員工的隱私，「±」為 95% 誤差範圍。數據每月發布一次，於該月結束 14 天後發布；下次發布日為 { $next_release }。
kpi-not-released = 目前還沒有可以提供給您的數據。為了讓每場諮詢都確認完成，統計數據每月發布一次，於該月結束 14 天後發布；下次發布日為 { $next_release }，屆時您就可以查看。
