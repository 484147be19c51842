# 繁體中文（台灣）— 只有 LINE 頻道會顯示的文字：Flex 卡片、替代文字與圖文選單。

## Flex 卡片與替代文字
line-choose = 請選擇：
line-alt-bookings = 您即將到來的預約
line-slot-title = { $start }
line-slot-detail = { $minutes } 分鐘
line-slot-choose = 選這個時段
line-booking-title = { $start }
line-booking-detail = { $domain }・{ $mode }

## 圖文選單（聊天列文字最多 14 個字）
line-richmenu-chat-bar = 開啟選單
line-richmenu-more = 更多功能
line-richmenu-crisis = 24 小時安心專線 { $number }
