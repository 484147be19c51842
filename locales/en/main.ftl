# English — main message catalog. Variables are written { $name }.

## Main menu and help
menu-main = Hello, this is your Employee Assistance Program (EAP). What can we help you with?
menu-about = About the EAP
menu-hours = My counseling hours
menu-book = Book a session
menu-my-bookings = My bookings
menu-feedback = Pending feedback
menu-language = Language 語言
menu-privacy = Privacy and forget me
menu-help = Help
menu-back = Back to the menu
help-text = Tap a button or type the number in front of a choice. Type "menu" or /menu at any time to return to the main menu. If you are in crisis, tell me, or call the 24-hour line 1925.
not-understood = Sorry, I didn't get that. Please pick one of these:

## First contact: privacy notice and consent
privacy-notice = Welcome to the Employee Assistance Program (EAP). Before we start: we keep only what the service needs; your employee number is stored only as a keyed hash; HR only ever sees anonymous totals for groups above a minimum size, never anyone's use; counselors see only what you choose to share. You can ask us to forget you at any time. Do you agree and continue?
consent-yes = I agree, continue
consent-no = I don't agree
consent-declined = No problem, nothing has been stored. You are welcome back any time.
consent-review = Read the privacy notice again

## Linking to the employer
link-ask-org = Please type your organisation code (HR can give it to you):
link-required = Before using the service, we need to confirm you are an employee.
link-unknown-org = We couldn't find that organisation code. Please check it and type it again.
link-ask-employee-number = Found "{ $organisation }". Please type your employee number:
link-ask-employee-number-again = Please type your employee number again:
link-not-on-roster = That employee number is not on the roster. Please check it and try again.
link-employee-left = That employee number is marked as having left, so it cannot use the EAP. Please ask HR if this is wrong.
link-already-linked = That employee number is linked to another chat account. Choose "Privacy and forget me" there to unlink it, or ask HR for help.
link-too-many-attempts = Too many attempts. Please try again in { $minutes } minutes.
link-done = You're linked! Your identity is stored only in encrypted form.

## About the EAP
about-intro = { $organisation } offers you a free, confidential Employee Assistance Program:
about-domain = • { $domain }: { $helps }
about-helps-psychology = stress, emotions, relationships and family, adjusting at work
about-helps-legal = legal questions on housing, consumer, family and employment matters
about-helps-finance = debt, budgeting, insurance and money basics
about-helps-nutrition = meal planning, weight management, diet for chronic conditions
domain-psychology = Psychological counseling
domain-legal = Legal consultation
domain-finance = Financial consultation
domain-nutrition = Nutrition consultation
about-modes-cost = Sessions by video, phone or in person. Your employer pays; it is free to you.
about-org-line = Your organisation's 24-hour care line: { $phone }
about-confidential = Everything you discuss is confidential. Your employer never learns whether you used the EAP or what you talked about.

## Hours
hours-summary = This plan year you have { $granted } hours: { $used } used, { $reserved } booked, { $left } left to book. Your hours reset on { $resets }.
hours-domain = • { $domain }: { $used } hours used, { $reserved } hours booked

## Language
language-choose = 請選擇語言 / Choose a language:
language-zh-TW = 繁體中文
language-en = English
language-set = Switched to English.

## Privacy and forget me
privacy-details = We keep: your chat account, when you consented, your language, your bookings and feedback. HR sees anonymous totals only; counselors see what a booking needs and any note you choose to leave. You can choose "Forget me".
privacy-forget = Forget me
forget-confirm = Are you sure? We will cancel your upcoming bookings and delete your link, chat account, notes and feedback comments; anonymous records for the totals stay. This cannot be undone.
forget-yes = Yes, forget me
forget-no = Not now
forget-done = Your data has been deleted. Thank you for using the EAP; you are welcome back any time.

## Crisis help
crisis-help = Thank you for telling me. How you feel matters. Are you safe right now? If you are in immediate danger, call 110 or 119 now. You don't have to face this alone: the lines below have someone to talk to, day and night. I'm still here with you.
crisis-lines = Tap to call:
crisis-call-1925 = Mental health line 1925 (24 h)
crisis-call-1995 = Lifeline 1995
crisis-call-1980 = Teacher Chang 1980
crisis-call-110 = Police 110
crisis-call-119 = Ambulance 119
crisis-earliest-slot = Book the earliest counseling session: { $start }
crisis-call = Please call { $number } (tap the number to dial).

## Errors
error-generic = Sorry, something went wrong. Please try again.
error-not-found = We couldn't find that; it may have changed.
error-not-allowed = You can't use this right now.
book-slot-taken = Someone just booked that time. Please choose another.
book-slot-unavailable = That time can't be booked any more. Please choose another.
book-no-hours = Not enough hours left (this needs { $needed } minutes, you have { $left }).
booking-not-active = This booking can no longer be changed.
invite-invalid = That invite code is unknown, used or expired.
feedback-closed = This feedback was already given or has expired. Thank you.

## Session modes
mode-video = Video
mode-phone = Phone
mode-in_person = In person

## Booking
book-no-hours-left = Your counseling hours for this plan year are used up or all booked. Please ask HR if you need more help.
book-choose-domain = What kind of help would you like to book?
book-choose-mode = { $domain }: how would you like to meet?
book-back = Back
book-no-slots = There are no free { $domain } ({ $mode }) times in the next 30 days. Try another way of meeting, or check again later.
book-other-mode = Another way of meeting
book-choose-day = Choose a day:
book-day = { $day }
book-more = More
book-choose-slot = Free times on { $day }:
book-slot = { $start } ({ $minutes } min, { $counselor })
book-confirm = Please confirm: { $domain }, { $mode }, { $start }, { $minutes } minutes, using { $hours } hours. Cancel at least { $cutoff } hours before the start and your hours return; after that they are forfeited.{ $note ->
    [1] {" "}Your note for the counselor is attached.
   *[other] {""}
}
book-confirm-yes = Confirm booking
book-add-note = Leave a note for the counselor (optional)
book-ask-note = Is there anything you'd like the counselor to know first? Just type it (up to 500 characters). Only your counselor sees it.
book-note-saved = Your note is saved.
book-confirmed = Booked! { $domain }, { $mode }, { $start }, { $minutes } minutes. To cancel, use "My bookings" at least { $cutoff } hours before the start.

## My bookings
my-none = You have no upcoming bookings.
my-booking = { $start } | { $domain } | { $mode }
my-cancel = Cancel
my-reschedule = Reschedule
cancel-confirm-free = Cancel { $domain } ({ $mode }) on { $start }? If you cancel now, your hours return.
cancel-confirm-late = It is less than { $cutoff } hours before the start: if you cancel { $domain } on { $start } now, the hours are forfeited. Cancel anyway?
cancel-yes = Yes, cancel
cancel-no = Keep it
cancel-done-free = Cancelled { $domain } on { $start }; your hours are back.
cancel-done-late = Cancelled { $domain } on { $start }. It was past the cancellation cutoff, so the hours are forfeited.
reschedule-none = There are no other free times right now; your booking stays as it is.
reschedule-choose-day = Move { $domain } ({ $mode }) on { $start } to which day? Your booking stays until the new time is secured.
reschedule-confirm = Move { $domain } on { $start } to { $new_start }?
reschedule-confirm-late = It is less than { $cutoff } hours before { $start }: if you move it, the hours of that session are forfeited. Move it to { $new_start } anyway?
reschedule-yes = Yes, move it
reschedule-done = Rescheduled! New time: { $start }, { $domain } ({ $mode }).

## Feedback
feedback-prompt = Thank you for attending { $domain }. Could you spare 30 seconds for feedback? It helps us improve, and answers are only reported as anonymous totals.
feedback-reminder = A reminder: your feedback on { $domain } is still open; it takes 30 seconds.
feedback-ask-satisfaction = Overall, how satisfied were you with { $domain }? (5 = very satisfied)
feedback-score-5 = 5 Very satisfied
feedback-score-4 = 4 Satisfied
feedback-score-3 = 3 Neutral
feedback-score-2 = 2 Dissatisfied
feedback-score-1 = 1 Very dissatisfied
feedback-none = There is no feedback waiting for you. Thank you.
feedback-ask-resolved = Was your concern resolved?
feedback-resolved-yes = Yes
feedback-resolved-partly = Partly
feedback-resolved-no = No
feedback-ask-again = Would you use the EAP again if you needed it?
feedback-again-yes = Yes
feedback-again-no = No
feedback-ask-comment = Anything else you'd like to tell us? Just type it (optional).
feedback-skip-comment = Skip
feedback-thanks = Thank you for your feedback!

## Reminders
reminder-24h = Reminder: { $domain } ({ $mode }) tomorrow at { $start }. To cancel or reschedule, use "My bookings".
reminder-1h = Reminder: { $domain } ({ $mode }) at { $start } starts within the hour.

## Counselors
counselor-linked = You're linked. Welcome! Booking notifications will arrive here.
counselor-menu = Hello { $name }, what would you like to do?
counselor-agenda = Today's agenda
counselor-upcoming = Upcoming bookings
counselor-add-slot = Add a slot
counselor-block-slot = Block a slot
counselor-licence-expired = Your licence expired on { $until }, so employees cannot book you. Please update your licence details with the operator.
counselor-view = View
counselor-next-day = Next day
counselor-more = Anything else?
counselor-agenda-empty = No sessions on { $day }.
counselor-agenda-title = { $count } sessions on { $day }:
counselor-agenda-line = • { $start } | { $domain } | { $mode } | client { $client }{ $flag ->
    [1] {" "}| ⚠ recent crisis screen
   *[other] {""}
}
counselor-booking-line = { $start } | { $domain } | { $mode } | client { $client } | { $status }{ $flag ->
    [1] {" "}| ⚠ recent crisis screen
   *[other] {""}
}
counselor-booking = Booking: { $start }, { $domain } ({ $mode }), client { $client }, status: { $status }.{ $flag ->
    [1] {" "}⚠ This client recently hit the crisis screen; please check on their safety first.
   *[other] {""}
}
counselor-note = Note from the client: { $note }
counselor-upcoming-none = No upcoming bookings.
counselor-held = Held
counselor-no-show = No-show
counselor-decline = Decline this booking
counselor-decline-confirm = Decline this booking? The client is told, their hours return, and they can pick another time.
counselor-decline-yes = Yes, decline
counselor-declined = Declined; the client has been told.
counselor-decline-too-late = It is too late to decline (within { $hours } hours of the booking). If you cannot hold it, please contact the operator.
counselor-outcome-too-early = You can record the outcome once the session has ended.
counselor-outcome-saved = Recorded as held; the client will get the feedback prompt.
counselor-no-show-saved = Recorded as a no-show.
counselor-add-day = Add a slot on which day?
counselor-add-time = At what time on { $day }?
counselor-hour = { $hour }
counselor-slot-added = Slot added: { $start } ({ $minutes } min).
counselor-no-free-slots = You have no free slots to block.
counselor-block-choose = Which slot should be blocked? (Booked slots cannot be blocked.)
counselor-slot = { $start }
counselor-slot-blocked = Slot blocked: { $start }.
counselor-new-booking = New booking: { $start }, { $domain } ({ $mode }), client { $client }.{ $flag ->
    [1] {" "}⚠ This client recently hit the crisis screen.
   *[other] {""}
}
counselor-cancelled = Booking cancelled: { $start }, { $domain } ({ $mode }), client { $client }.
counselor-rescheduled = Booking moved: client { $client }'s { $domain } ({ $mode }) from { $old_start } to { $start }.{ $flag ->
    [1] {" "}⚠ This client recently hit the crisis screen.
   *[other] {""}
}
counselor-ask-outcome = Did the { $domain } session ({ $mode }) with client { $client } at { $start } take place?
counselor-ask-outcome-again = A reminder: please record whether the { $domain } session ({ $mode }) with client { $client } at { $start } took place.
hr-linked = You're linked, { $name }. You will only ever see anonymous totals.
status-booked = booked
status-cancelled = cancelled
status-late_cancelled = cancelled late
status-declined = declined
status-held = held
status-no_show = no-show
status-rescheduled = rescheduled

## Declines and the waitlist
booking-declined = Sorry, the counselor can't hold { $domain } on { $start }. Your hours are back. Would you like another time?
booking-declined-other = See other times
waitlist-join = Join the waitlist
waitlist-joined = You're on the waitlist for { $domain }. When a time frees up, you'll be the first to know. Only some days suit you? Tap them (none means any day).
waitlist-leave = Leave the waitlist
waitlist-left = You've left the waitlist.
waitlist-offer = A { $domain } time just opened: { $start }. We'll hold it for you for { $minutes } minutes. Book it?
waitlist-take = Book this time

## Recurring sessions
counselor-offer-series = Offer a series
series-choose = How often, and how many sessions? (Each is booked only if the slot and the client's hours allow; the client confirms once.)
series-option = { $weeks ->
    [1] Weekly
   *[other] Every { $weeks } weeks
}, { $count } sessions
series-offered = The series ({ $count } sessions) was offered to the client; you'll be notified of each booking.
series-offer = Your counselor suggests { $count } more { $domain } sessions after { $start }, { $weeks ->
    [1] every week
   *[other] every { $weeks } weeks
} at the same time. Confirm once and we'll book what the slots and your hours allow.
series-accept = Confirm
series-decline = Not now
series-declined = OK, nothing was booked.
series-closed = This series offer was already confirmed or is no longer valid.
series-result = Booked { $booked } of { $total } sessions:
series-booked-line = ✓ { $start }
series-skipped-line = ✗ { $start }: { $reason }

## Flood control
flood-slow-down = That's a lot of messages at once; please wait a few seconds before sending more. If you are in crisis, call 1925 now, or 110/119.

## HR
hr-menu = Hello { $name }. You will only ever see anonymous totals here. Choose:
hr-kpi-week = Last week's KPIs
hr-kpi-month = KPIs, last 30 days
hr-kpi-year = KPIs, plan year to date
hr-export = Export CSV
hr-kpi = 📊 { $organisation }: { $first_day } to { $last_day }
    { $body }
hr-digest = 📊 { $organisation }: weekly EAP summary ({ $first_day } to { $last_day })
    { $body }
hr-digest-chart = KPI trends over 8 weeks and sessions by domain this plan year.
hr-digest-csv = This week's figures (CSV).
hr-export-ready = The plan year's anonymous figures (CSV) are attached.
waitlist-days = We'll only offer times on:
    { $body }
weekday-0 = Monday
weekday-1 = Tuesday
weekday-2 = Wednesday
weekday-3 = Thursday
weekday-4 = Friday
weekday-5 = Saturday
weekday-6 = Sunday
