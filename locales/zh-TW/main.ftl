# 繁體中文（台灣）— 主要訊息目錄。變數以 { $name } 表示。

## 主選單與說明
menu-main = 您好，這裡是員工協助方案（EAP）。請選擇您需要的服務：
menu-about = 認識 EAP
menu-hours = 我的諮詢時數
menu-book = 預約諮詢
menu-my-bookings = 我的預約
menu-feedback = 待填回饋
menu-language = 語言 Language
menu-privacy = 隱私與刪除資料
menu-help = 使用說明
menu-back = 回主選單
help-text = 使用方式：點選按鈕，或輸入選項前的數字。隨時輸入「選單」或 /menu 回到主選單。若您正處於危機中，請直接告訴我，我會先提供 24 小時專線。
not-understood = 抱歉，我不太明白。請從下列選項中選擇：

## 第一次使用：隱私說明與同意
privacy-notice = 歡迎使用員工協助方案（EAP）。這是自動回覆的服務，不是諮商師。開始前請先了解：我們只保存提供服務所需的資料；員工編號只以加密雜湊保存；人資只會看到人數達最低門檻的匿名統計，看不到任何個人的使用紀錄；諮詢師只會看到您選擇告訴他的內容。為了防止冒用，綁定失敗後會保存您聊天帳號的加密雜湊最多兩小時，即使您要求刪除資料也一樣。您可以隨時要求刪除資料。您同意並繼續嗎？
consent-yes = 我同意，繼續
consent-no = 不同意
consent-declined = 沒問題，我們沒有保存任何資料。若改變心意，隨時可以再回來。
consent-review = 重新閱讀隱私說明

## 綁定員工身分
link-ask-org = 請輸入貴公司的組織代碼（印在 EAP 海報或通知信上）：
link-required = 使用服務前，需要先確認您的員工身分。
link-ask-employee-number = 請輸入您的員工編號：
link-ask-enrolment-code = 請輸入您個人 EAP 通知信上的啟用碼（例如 7K2QD-M9XTR）。如果您曾在其他聊天帳號綁定過，請改輸入您的復原碼。
link-refused = 無法用這些資料完成綁定。請確認組織代碼、員工編號與啟用碼，再從組織代碼開始重新輸入。若仍無法綁定，請聯絡 EAP 服務提供者：{ link-provider-contact }
link-provider-contact = EAP 服務中心，電話 0800-000-000 或 help@eap.example.tw
link-employee-left = 這個員工編號已標示為離職，無法使用本方案。如有疑問，請聯絡 EAP 服務提供者：{ link-provider-contact }
link-too-many-attempts = 嘗試次數過多，請於 { $minutes } 分鐘後再試。
link-done = 綁定完成！您的身分資料只以加密形式保存。您的復原碼是 { $recovery }，請抄下並自行妥善保管，它只會顯示這一次。日後換手機或換聊天軟體時，在輸入啟用碼的步驟改輸入復原碼，就能自行把綁定移過去。
link-moved-away = 您的 EAP 綁定已用復原碼移到另一個聊天帳號，這個聊天帳號不再綁定。如果這不是您本人操作，請立即聯絡 EAP 服務提供者：{ link-provider-contact }
link-someone-tried = 剛才有人用您的員工編號與啟用碼，嘗試在另一個聊天帳號綁定；已被拒絕，您的綁定不受影響。如果這不是您，請聯絡 EAP 服務提供者：{ link-provider-contact }（不會通知您的公司）。

## 認識 EAP
about-intro = { $organisation } 為您提供免費、保密的員工協助方案，服務內容如下：
about-domain = • { $domain }：{ $helps }
about-helps-psychology = 壓力、情緒、人際與家庭關係、職場適應
about-helps-legal = 租屋、消費、家事、勞資等法律問題諮詢
about-helps-finance = 債務、預算規劃、保險與理財觀念
about-helps-nutrition = 飲食規劃、體重管理、慢性病飲食
domain-psychology = 心理諮詢
domain-legal = 法律諮詢
domain-finance = 財務諮詢
domain-nutrition = 營養諮詢
about-modes-cost = 諮詢方式：視訊、電話或面談。費用由公司支付，您無需付費。
about-org-line = 公司 24 小時關懷專線：{ $phone }
about-confidential = 所有諮詢內容均保密，公司不會知道您是否使用或談了什麼。

## 時數
hours-summary = 本計畫年度您有 { $granted } 小時：已使用 { $used } 小時、已預約 { $reserved } 小時，尚可預約 { $left } 小時。時數將於 { $resets }重置。
hours-domain = • { $domain }：已使用 { $used } 小時、已預約 { $reserved } 小時

## 語言
language-choose = 請選擇語言 / Choose a language:
language-zh-TW = 繁體中文
language-en = English
language-set = 已切換為繁體中文。

## 隱私與刪除資料
privacy-details = 我們保存：您的聊天帳號、同意時間、語言、預約與回饋。人資只看得到匿名統計；諮詢師只看得到預約需要的資訊與您自願留下的備註。危機時若您同意通知值班諮商師，我們會保存通知與確認的時間（不含您寫的內容），您留下的回電號碼只會轉給對方。您可以選擇「刪除我的資料」。
privacy-forget = 刪除我的資料
forget-confirm = 確定要刪除嗎？我們會取消您尚未進行的預約、刪除您的綁定、聊天帳號、備註與回饋文字；統計用的匿名紀錄會保留。此動作無法復原。
forget-yes = 確定刪除
forget-no = 先不要
forget-done = 已刪除您的資料。謝謝您使用 EAP，若需要，隨時歡迎再回來。

## 危機協助（語氣：一律用「您」；溫暖、簡短；不做機器人做不到的承諾）
crisis-lines-self =
    謝謝您願意說出來，您的感受很重要。這裡是自動回覆的服務，不是諮商師；以下專線有專人可以和您談，點選即可撥打：
    { $lines }
crisis-lines-others-danger =
    謝謝您告訴我。有人傷害或威脅您，不是您的錯。這裡是自動回覆的服務，不是諮商師；以下專線有專人可以協助您，點選即可撥打：
    { $lines }
crisis-lines-third-party =
    謝謝您關心身邊的人。這裡是自動回覆的服務，不是諮商師；以下專線可以協助您陪伴對方。如果對方有立即的危險，請撥打緊急救護或報警電話：
    { $lines }
crisis-lines-again =
    抱歉，我不確定您的意思。需要的話，現在就可以撥打：
    { $lines }
crisis-lines-declined =
    如果您現在需要找人談，以下專線不需要任何登記，點選即可撥打：
    { $lines }
crisis-line = • { $name } { $number }｜{ $hours }{ $english ->
    [1] ｜可用英語（通譯）
   *[other] {""}
}
crisis-line-org = • 貴公司 EAP 24 小時專線 { $number }
crisis-no-english = （以上公共專線以華語服務。）
crisis-no-english-org = （以上公共專線以華語服務；需要英語協助時，可撥貴公司的 EAP 專線。）
crisis-call-line = { $name } { $number }
crisis-call-org = 公司 EAP 專線 { $number }
crisis-call = 請撥打 { $number }（點選號碼即可撥出）。
crisis-ask = { $kind ->
    [third-party] 您和對方現在安全嗎？請點選下方按鈕，或直接輸入。
   *[other] 您現在安全嗎？請點選下方按鈕，或直接輸入。
}
crisis-answer-danger = 我現在有危險
crisis-answer-talk = 我想找人談
crisis-answer-safe = 我沒事
crisis-back = 回到剛才的步驟
crisis-danger =
    您的安全最重要。請現在就撥打下方電話；如果可以，請待在有其他人在的安全地方。
    { $lines }
crisis-danger-next = 需要的話，也可以點選下方按鈕。
crisis-alert-offer = 也可以通知貴公司 EAP 的值班諮商師。對方只會收到您的代號和時間，不會看到您寫的任何內容。要通知嗎？
crisis-alert-yes = 通知值班諮商師
crisis-alert-waiting = 已經通知值班諮商師，正在等對方回覆。等待的時候，如有立即危險，請直接撥打上方電話。
crisis-alert-sent =
    已通知值班諮商師。如果 { $minutes } 分鐘內對方沒有回覆，這裡會告訴您。有立即危險時請不要等待，直接撥打：
    { $lines }
crisis-ask-number = 如果希望對方打電話給您，請輸入您的電話號碼（手機或含區碼的市話）；不方便留也沒關係。
crisis-number-invalid =
    這看起來不像台灣的電話號碼。請輸入 09 開頭的手機號碼，或含區碼的市話；不留也沒關係。需要時請直接撥打：
    { $lines }
crisis-number-sent = 已把電話號碼 { $phone } 轉給值班諮商師。
crisis-alert-unavailable =
    目前沒有可以通知的值班諮商師。請直接撥打：
    { $lines }
crisis-alert = ⚠ 緊急通知：個案 { $client } 於 { $at } 表示現在有危險，並同意通知您。若個案留下回電號碼，會另外傳給您。請點選「我已收到」。
crisis-alert-callback = ⚠ 個案 { $client }（{ $at } 的緊急通知）留下回電號碼：{ $phone }
crisis-alert-ack = 我已收到
crisis-alert-ack-done = 已記錄您收到通知，個案會知道您已看到。
crisis-alert-ack-again = 這則通知先前已確認收到。
crisis-alert-acknowledged = 值班諮商師已看到您的通知。如有立即危險，請不要等待，直接撥打緊急電話。
crisis-alert-unanswered =
    值班諮商師在 { $minutes } 分鐘內還沒有回覆。請不要等待，現在就撥打：
    { $lines }
crisis-safe =
    很高興聽到您現在安全。之後如果需要，這支專線 24 小時都可以撥打：
    { $lines }
crisis-back-done = 好的，回到剛才的步驟。
crisis-back-none = 沒有需要回到的步驟。
crisis-talk-lines =
    現在就想找人談，可以撥打：
    { $lines }
crisis-talk-offer = 也可以預約 EAP 的心理諮商，最快的時段如下：
crisis-earliest-slot = 預約最快的心理諮詢：{ $start }
crisis-other-times = 看看其他時段
crisis-talk-no-slot =
    目前沒有可預約的心理諮商時段；您可以加入候補，有空出的時段會先通知您。現在就想找人談，可以撥打：
    { $lines }
crisis-talk-no-hours =
    您本年度的 EAP 諮商時數已經用完（或都已預約），{ $resets }才會重新計算。現在就想找人談，可以撥打：
    { $lines }
crisis-talk-next = 您也可以：
crisis-programme = 另外，{ $name }提供 { $min_age } 到 { $max_age } 歲的民眾每年 { $sessions } 次免費心理諮商，合作機構可在這裡查詢：{ $url }
crisis-check-in =
    聽起來您最近可能不太好受。想找人談，或現在有危險，都可以點選下方按鈕；24 小時專線：
    { $lines }
crisis-reoffer = 最快可以改約另一位諮商師的時段：{ $start }
crisis-reoffer-lines =
    如果現在就想找人談，可以撥打：
    { $lines }
crisis-reoffer-none =
    目前沒有其他可改約的時段。如果現在就想找人談，可以撥打：
    { $lines }
crisis-report-title = 危機關懷月報：{ $month }（只有次數，沒有任何可識別個人的資料）
crisis-report-org = • { $organisation }（{ $code }）：危機事件 { $episodes } 次；通知值班諮商師 { $alerts } 次，其中 { $acknowledged } 次在 { $minutes } 分鐘內確認收到。
crisis-report-total = 合計：危機事件 { $episodes } 次（同一人同一天的多則訊息算一次）。
crisis-report-protocol =
    處理流程：偵測到危機訊息時，先依情況（本人、遭他人威脅、關心他人）提供專線並詢問是否安全；回答「有危險」時提供緊急電話，並可經本人同意通知值班諮商師（{ $minutes } 分鐘內未確認，會再提醒本人並再次提供專線）；想找人談時提供最快的諮商時段，時數用完或沒有時段時照實說明，並提供免費的公共資源。諮商師婉拒曾觸發危機關懷的預約前會先被提醒，婉拒後立即為個案重新安排。目前使用的專線（來源與查核日期見 handlers/crisis_lines.toml）：
    { $lines }
crisis-report-line = • { $name } { $number }（查核日期 { $checked }）

## 錯誤
error-generic = 抱歉，發生了一點問題，請再試一次。
error-not-found = 找不到這筆資料，可能已經變更。
error-not-allowed = 您目前無法使用這項功能。
book-slot-taken = 這個時段剛被預約走了，請選擇其他時段。
book-slot-unavailable = 這個時段目前無法預約，請選擇其他時段。
book-no-hours = 您的剩餘時數不足（需要 { $needed } 分鐘，剩下 { $left } 分鐘）。
book-overlap = 您在 { $start } 已經有一個預約，和這個時段重疊。同一時間只能預約一個時段，請選擇其他時段。
book-ahead-cap = 您目前已預約 { $booked } 小時尚未進行的諮詢，貴公司規定同時最多只能預約 { $cap } 小時。等已預約的諮詢結束，或取消其中一個預約後，就可以再預約。
booking-not-active = 這筆預約已無法變更。
invite-invalid = 邀請碼無效、已使用或已過期。
feedback-closed = 這份回饋已填寫或已過期，謝謝您。

## 諮詢方式
mode-video = 視訊
mode-phone = 電話
mode-in_person = 面談

## 預約
book-no-hours-left = 您本年度的諮詢時數已用完或都已預約。想了解其他選擇，請聯絡 EAP 服務提供者：{ link-provider-contact }（不會通知您的公司）。
book-choose-domain = 想預約哪一類諮詢？
book-choose-mode = { $domain }：您希望用哪種方式進行？
book-back = 上一步
book-no-slots = 目前 30 天內沒有可預約的{ $domain }（{ $mode }）時段。您可以換一種方式，或稍後再試。
book-other-mode = 換一種方式
book-choose-day = 請選擇日期：
book-day = { $day }
book-more = 更多
book-choose-slot = { $day } 可預約的時段：
book-slot = { $start }（{ $minutes } 分鐘，{ $counselor }）
book-confirm = 請確認：{ $domain }，{ $mode }，{ $start }，共 { $minutes } 分鐘，將使用 { $hours } 小時。於開始前 { $cutoff } 小時以前取消可退回時數，之後取消時數將不退回。{ $note ->
    [1] 已附上給諮詢師的備註。
   *[other] {""}
}
book-confirm-yes = 確認預約
book-add-note = 留言給諮詢師（選填）
book-ask-note = 有什麼想先讓諮詢師知道的嗎？請直接輸入（最多 500 字）。只有您的諮詢師看得到。
book-note-saved = 已記下您的備註。
book-confirmed = 預約完成！{ $domain }，{ $mode }，{ $start }，{ $minutes } 分鐘。如需取消，請於開始前 { $cutoff } 小時以前到「我的預約」辦理。

## 我的預約
my-none = 您目前沒有即將進行的預約。
my-booking = { $start }｜{ $domain }｜{ $mode }
my-cancel = 取消
my-reschedule = 改期
cancel-confirm-free = 確定取消 { $start } 的{ $domain }（{ $mode }）嗎？現在取消，時數會退回給您。
cancel-confirm-late = 距離開始已不到 { $cutoff } 小時，現在取消（{ $start } 的{ $domain }），這次的時數將不退回。確定取消嗎？
cancel-yes = 確定取消
cancel-no = 不取消
cancel-done-free = 已取消 { $start } 的{ $domain }，時數已退回。
cancel-done-late = 已取消 { $start } 的{ $domain }。因已超過取消期限，這次的時數不退回。
reschedule-none = 目前沒有其他可改約的時段，原預約維持不變。
reschedule-choose-day = 要把 { $start } 的{ $domain }（{ $mode }）改到哪一天？原預約會保留到新時段確認為止。
reschedule-confirm = 確定把 { $start } 的{ $domain } 改到 { $new_start } 嗎？
reschedule-confirm-late = 距離原預約開始已不到 { $cutoff } 小時：改期後，原本 { $start } 那次的時數將不退回。確定改到 { $new_start } 嗎？
reschedule-yes = 確定改期
reschedule-done = 已改期！新的時間：{ $start }，{ $domain }（{ $mode }）。

## 回饋
feedback-prompt = 感謝您參加{ $domain }。想請您花 30 秒給我們回饋，幫助我們改善服務（您的回答以匿名統計呈現）。
feedback-reminder = 提醒您：{ $domain }的回饋問卷還沒填寫，只需要 30 秒。
feedback-ask-satisfaction = 整體而言，您對這次{ $domain }滿意嗎？（5 = 非常滿意）
feedback-score-5 = 5 非常滿意
feedback-score-4 = 4 滿意
feedback-score-3 = 3 普通
feedback-score-2 = 2 不滿意
feedback-score-1 = 1 非常不滿意
feedback-none = 目前沒有待填的回饋，謝謝您。
feedback-ask-resolved = 您的困擾有得到解決嗎？
feedback-resolved-yes = 有
feedback-resolved-partly = 部分解決
feedback-resolved-no = 沒有
feedback-ask-again = 未來有需要時，您還會再使用 EAP 嗎？
feedback-again-yes = 會
feedback-again-no = 不會
feedback-ask-comment = 還有想告訴我們的嗎？請直接輸入（選填）。
feedback-skip-comment = 略過
feedback-thanks = 謝謝您的回饋！

## 提醒
reminder-24h = 提醒您：明天 { $start } 有一場{ $domain }（{ $mode }）。如需取消或改期，請到「我的預約」。
reminder-1h = 提醒您：{ $start } 的{ $domain }（{ $mode }）將在一小時內開始。

## 諮詢師
counselor-linked = 綁定完成，歡迎加入！之後的預約通知都會送到這裡。
counselor-menu = { $name } 您好，請選擇：
counselor-agenda = 今日行程
counselor-upcoming = 即將進行的預約
counselor-add-slot = 新增時段
counselor-block-slot = 關閉時段
counselor-licence-expired = 您的執照已於 { $until } 到期，員工目前無法預約您。請更新執照資料後洽管理者。
counselor-view = 查看
counselor-next-day = 下一天
counselor-more = 還需要什麼嗎？
counselor-agenda-empty = { $day } 沒有安排的會談。
counselor-agenda-title = { $day } 共有 { $count } 場會談：
counselor-agenda-line = • { $start }｜{ $domain }｜{ $mode }｜個案 { $client }{ $flag ->
    [1] ｜⚠ 曾觸發危機關懷
   *[other] {""}
}
counselor-booking-line = { $start }｜{ $domain }｜{ $mode }｜個案 { $client }｜{ $status }{ $flag ->
    [1] ｜⚠ 曾觸發危機關懷
   *[other] {""}
}
counselor-booking = 預約：{ $start }，{ $domain }（{ $mode }），個案 { $client }，狀態：{ $status }。{ $flag ->
    [1] ⚠ 這位個案近期曾觸發危機關懷，請優先關心其安全。
   *[other] {""}
}
counselor-note = 個案留言：{ $note }
counselor-upcoming-none = 目前沒有即將進行的預約。
counselor-held = 已進行
counselor-no-show = 未出席
counselor-decline = 婉拒此預約
counselor-decline-confirm = 確定婉拒嗎？個案會收到通知、時數退回，並可改約其他時段。
counselor-decline-yes = 確定婉拒
counselor-decline-crisis-warning = ⚠ 這位個案近期曾觸發危機關懷。如可能，請優先保留這次會談；若仍婉拒，系統會立即為個案提供其他時段與專線資訊。
counselor-declined = 已婉拒，個案已收到通知。
counselor-decline-too-late = 已超過婉拒期限（預約成立後 { $hours } 小時內）。如無法進行，請聯絡管理者。
counselor-outcome-too-early = 會談結束後才能登記結果。
counselor-outcome-saved = 已登記為已進行，個案將收到回饋問卷。
counselor-no-show-saved = 已登記為未出席。
counselor-add-day = 要在哪一天新增時段？
counselor-add-time = { $day } 的哪個時間？
counselor-hour = { $hour }
counselor-slot-added = 已新增時段：{ $start }（{ $minutes } 分鐘）。
counselor-no-free-slots = 目前沒有可關閉的空時段。
counselor-block-choose = 要關閉哪個時段？（已被預約的時段無法關閉）
counselor-slot = { $start }
counselor-slot-blocked = 已關閉時段：{ $start }。
counselor-new-booking = 新預約：{ $start }，{ $domain }（{ $mode }），個案 { $client }。{ $flag ->
    [1] ⚠ 這位個案近期曾觸發危機關懷。
   *[other] {""}
}
counselor-cancelled = 預約已取消：{ $start }，{ $domain }（{ $mode }），個案 { $client }。
counselor-rescheduled = 預約改期：個案 { $client } 的{ $domain }（{ $mode }）由 { $old_start } 改到 { $start }。{ $flag ->
    [1] ⚠ 這位個案近期曾觸發危機關懷。
   *[other] {""}
}
counselor-ask-outcome = { $start } 與個案 { $client } 的{ $domain }（{ $mode }）有進行嗎？
counselor-ask-outcome-again = 再次提醒：請登記 { $start } 與個案 { $client } 的{ $domain }（{ $mode }）是否進行。
hr-linked = 綁定完成，{ $name }。您只會看到匿名的統計資料。
status-booked = 已預約
status-cancelled = 已取消
status-late_cancelled = 逾期取消
status-declined = 已婉拒
status-held = 已進行
status-no_show = 未出席
status-rescheduled = 已改期

## 婉拒與候補
booking-declined = 很抱歉，諮詢師無法在 { $start } 進行{ $domain }，您的時數已退回。要改約其他時段嗎？
booking-declined-other = 看看其他時段
waitlist-join = 加入候補
waitlist-joined = 已加入{ $domain }的候補名單。一有空出的時段，我們會先通知您。只想要某幾天的時段嗎？請點選（不選就是每天都可以）。
waitlist-leave = 退出候補
waitlist-left = 已退出候補名單。
waitlist-offer = 有空出的{ $domain }時段：{ $start }。我們會為您保留 { $minutes } 分鐘，要預約嗎？
waitlist-take = 預約這個時段

## 固定會談
counselor-offer-series = 安排固定會談
series-choose = 要為這位個案安排多久一次、共幾次？（每次是否能預約，依時段與時數而定，個案確認一次即可）
series-option = { $weeks ->
    [1] 每週
   *[other] 每 { $weeks } 週
}一次，共 { $count } 次
series-offered = 已將固定會談（{ $count } 次）的邀請傳給個案，確認後會通知您。
series-offer = 您的諮詢師建議在 { $start } 之後，{ $weeks ->
    [1] 每週
   *[other] 每 { $weeks } 週
}同一時間再進行 { $count } 次{ $domain }。確認一次即可，我們會依時段與剩餘時數為您預約。
series-accept = 確認預約
series-decline = 先不要
series-declined = 好的，沒有預約任何時段。
series-closed = 這個固定會談邀請已確認過或已失效。
series-result = 已預約 { $booked } 次（共 { $total } 次）：
series-booked-line = ✓ { $start }
series-skipped-line = ✗ { $start }：{ $reason }

## 洪水防護
flood-slow-down = 訊息有點多，我需要一點時間處理。請稍候幾秒再繼續；如果您正處於危機中，請直接告訴我，我會先提供專線電話。

## 人資
hr-menu = { $name } 您好，這裡只提供匿名統計。請選擇：
hr-kpi-month = 最近發布月份 KPI
hr-kpi-year = 本計畫年度 KPI（至最近發布月份）
hr-export = 匯出 CSV
hr-kpi = 📊 { $organisation }：{ $first_day } 至 { $last_day }
    { $body }
hr-digest = 📊 { $organisation } 每週 EAP 摘要：最近發布月份（{ $first_day } 至 { $last_day }）
    { $body }
hr-digest-chart = 各已發布月份的 KPI 趨勢，與本計畫年度至該月的各服務領域場次。
hr-digest-csv = 已發布月份的數據與誤差範圍（CSV）。
hr-export-ready = 本計畫年度已發布的各月統計與誤差範圍（CSV）如附件，請您查收。
waitlist-days = 只在這些日子通知您：
    { $body }
weekday-0 = 週一
weekday-1 = 週二
weekday-2 = 週三
weekday-3 = 週四
weekday-4 = 週五
weekday-5 = 週六
weekday-6 = 週日
