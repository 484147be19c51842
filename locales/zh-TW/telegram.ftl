# 繁體中文（台灣）— 僅用於 Telegram：輸入框旁的指令選單（setMyCommands）。
# 每則說明不可超過 256 個字元。

telegram-command-start = 開始，或以組織代碼連結
telegram-command-menu = 主選單
telegram-command-book = 預約諮詢
telegram-command-bookings = 我的預約：取消或改期
telegram-command-hours = 我的諮詢時數
telegram-command-feedback = 待填回饋
telegram-command-about = 認識 EAP
telegram-command-language = 語言 Language
telegram-command-privacy = 隱私與刪除資料
telegram-command-help = 使用說明
