# English — what only the LINE channel shows: Flex cards, alt texts and the rich menu.

## Flex cards and alt texts
line-choose = Please choose:
line-alt-bookings = Your upcoming bookings
line-slot-title = { $start }
line-slot-detail = { $minutes } minutes
line-slot-choose = Choose this time
line-booking-title = { $start }
line-booking-detail = { $domain } · { $mode }

## Rich menu (the chat bar text has at most 14 characters)
line-richmenu-chat-bar = Menu
line-richmenu-more = More
line-richmenu-crisis = 24-hour help line { $number }
