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
help-text = Tap a button or type the number in front of a choice. Type "menu" or /menu at any time to return to the main menu. If you are in crisis, tell me and I will show you the 24-hour lines first.
not-understood = Sorry, I didn't get that. Please pick one of these:

## First contact: privacy notice and consent
privacy-notice = Welcome to the Employee Assistance Program (EAP). This is an automated service, not a counselor. Before we start: we keep only what the service needs; your employee number is stored only as a keyed hash; HR only ever sees anonymous totals for groups above a minimum size, never anyone's use; counselors see only what you choose to share. To stop guessing, a keyed hash of your chat account is kept for up to two hours after a failed linking attempt, even if you ask us to forget you. You can ask us to forget you at any time. Do you agree and continue?
consent-yes = I agree, continue
consent-no = I don't agree
consent-declined = No problem, nothing has been stored. You are welcome back any time.
consent-review = Read the privacy notice again

## Linking to the employer
link-ask-org = Please type your organisation code (it is on the EAP poster or letter):
link-required = Before using the service, we need to confirm you are an employee.
link-ask-employee-number = Please type your employee number:
link-ask-enrolment-code = Please type the enrolment code from your personal EAP letter (for example 7K2QD-M9XTR). If you have linked on another chat before, type your recovery code instead.
link-refused = We couldn't link this chat with those details. Please check your organisation code, employee number and enrolment code, and type them again, starting with the organisation code. If it still doesn't work, contact the EAP provider: { link-provider-contact }
link-provider-contact = the EAP service desk, 0800-000-000 or help@eap.example.tw
link-employee-left = That employee number is marked as having left, so it cannot use the EAP. If this is wrong, contact the EAP provider: { link-provider-contact }
link-too-many-attempts = Too many attempts. Please try again in { $minutes } minutes.
link-done = You're linked! Your identity is stored only in encrypted form. Your recovery code is { $recovery }. Write it down and keep it to yourself; it is shown only this once. If you change phones or chat apps, type it instead of the enrolment code to move your link there yourself.
link-moved-away = Your EAP link was moved to another chat with your recovery code, so this chat is no longer linked. If this wasn't you, contact the EAP provider now: { link-provider-contact }
link-someone-tried = Someone just tried to link another chat with your employee number and enrolment code. It was refused and your link is unchanged. If this wasn't you, contact the EAP provider: { link-provider-contact } (your employer is not told).

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
privacy-details = We keep: your chat account, when you consented, your language, your bookings and feedback. HR sees anonymous totals only; counselors see what a booking needs and any note you choose to leave. If, in a crisis, you agree that the on-call counselor be told, we keep when they were told and when they answered (never what you wrote); a callback number you leave is only passed on to them. You can choose "Forget me".
privacy-forget = Forget me
forget-confirm = Are you sure? We will cancel your upcoming bookings and delete your link, chat account, notes and feedback comments; anonymous records for the totals stay. This cannot be undone.
forget-yes = Yes, forget me
forget-no = Not now
forget-done = Your data has been deleted. Thank you for using the EAP; you are welcome back any time.

## Crisis help (tone: warm, short, no promises a bot cannot keep)
crisis-lines-self =
    Thank you for telling me; how you feel matters. This is an automated service, not a counselor. These lines have people you can talk to; tap to call:
    { $lines }
crisis-lines-others-danger =
    Thank you for telling me. If someone is hurting or threatening you, it is not your fault. This is an automated service, not a counselor. These lines can help you; tap to call:
    { $lines }
crisis-lines-third-party =
    Thank you for looking out for someone. This is an automated service, not a counselor. These lines can help you support them. If they are in immediate danger, call the ambulance or the police:
    { $lines }
crisis-lines-again =
    Sorry, I'm not sure what you meant. If you need to, you can call now:
    { $lines }
crisis-lines-declined =
    If you need someone to talk to now, these lines need no sign-up; tap to call:
    { $lines }
crisis-line = • { $name } { $number } | { $hours }{ $english ->
    [1] {" "}| English through an interpreter
   *[other] {""}
}
crisis-line-org = • Your organisation's 24-hour EAP line { $number }
crisis-no-english = We know of no vetted crisis line in Taiwan that answers in English; the public lines above answer in Mandarin.
crisis-no-english-org = We know of no vetted public crisis line in Taiwan that answers in English; the public lines above answer in Mandarin. For English, try your organisation's EAP line above.
crisis-call-line = { $name } { $number }
crisis-call-org = EAP line { $number }
crisis-call = Please call { $number } (tap the number to dial).
crisis-ask = { $kind ->
    [third-party] Are you and they safe right now? Tap a button below, or just type.
   *[other] Are you safe right now? Tap a button below, or just type.
}
crisis-answer-danger = I'm in danger now
crisis-answer-talk = I want to talk to someone
crisis-answer-safe = I'm OK
crisis-back = Back to what I was doing
crisis-danger =
    Your safety comes first. Please call one of these numbers now and, if you can, stay somewhere safe with other people around.
    { $lines }
crisis-danger-next = When you need to, you can also tap a button below.
crisis-alert-offer = I can also tell your organisation's on-call EAP counselor. They get only your alias and the time, never anything you wrote. Shall I tell them?
crisis-alert-yes = Tell the on-call counselor
crisis-alert-waiting = The on-call counselor has been told; we are waiting for their answer. If you are in immediate danger meanwhile, please call the numbers above.
crisis-alert-sent =
    The on-call counselor has been told. If they have not answered within { $minutes } minutes, you will hear it here. If you are in immediate danger, please don't wait; call:
    { $lines }
crisis-ask-number = If you would like them to call you, type your phone number (a mobile or a landline with its area code). It's fine not to.
crisis-number-invalid =
    That doesn't look like a Taiwanese phone number. Please type a mobile number starting with 09, or a landline with its area code; it's fine not to. If you need to, call:
    { $lines }
crisis-number-sent = Your number { $phone } has been passed to the on-call counselor.
crisis-alert-unavailable =
    There is no on-call counselor to tell right now. Please call:
    { $lines }
crisis-alert = ⚠ Urgent: client { $client } said at { $at } that they are in danger and agreed that you be told. If they leave a callback number, it follows. Please tap "Received".
crisis-alert-callback = ⚠ Callback number from client { $client } (urgent alert of { $at }): { $phone }
crisis-alert-ack = Received
crisis-alert-ack-done = Noted; the client will know you have seen it.
crisis-alert-ack-again = This alert was acknowledged already.
crisis-alert-acknowledged = The on-call counselor has seen your alert. If you are in immediate danger, please don't wait: call the emergency numbers.
crisis-alert-unanswered =
    The on-call counselor has not answered within { $minutes } minutes. Please don't wait; call now:
    { $lines }
crisis-safe =
    I'm glad you are safe right now. If you need it later, this line is open 24 hours:
    { $lines }
crisis-back-done = OK, back to where you were.
crisis-back-none = There is nothing to go back to.
crisis-talk-lines =
    To talk to someone now, you can call:
    { $lines }
crisis-talk-offer = You can also book an EAP counseling session; this is the earliest time:
crisis-earliest-slot = Book the earliest counseling session: { $start }
crisis-other-times = See other times
crisis-talk-no-slot =
    There are no counseling sessions free to book right now; you can join the waitlist and hear first when one frees up. To talk to someone now, you can call:
    { $lines }
crisis-talk-no-hours =
    Your EAP counseling hours for this plan year are used up (or all booked); they renew on { $resets }. To talk to someone now, you can call:
    { $lines }
crisis-talk-next = You can also:
crisis-programme = There is also the { $name }: { $sessions } free counseling sessions a year for people aged { $min_age } to { $max_age }. Find a provider here: { $url }
crisis-check-in =
    It sounds like things may be hard for you right now. If you want to talk to someone, or you are in danger, tap a button below. 24-hour line:
    { $lines }
crisis-reoffer = The earliest time with another counselor: { $start }
crisis-reoffer-lines =
    To talk to someone now, you can call:
    { $lines }
crisis-reoffer-none =
    There is no other time free to book right now. To talk to someone now, you can call:
    { $lines }
crisis-report-title = Crisis care, monthly report: { $month } (counts only; nothing identifies anyone)
crisis-report-org = • { $organisation } ({ $code }): crisis episodes { $episodes }; on-call counselor alerts { $alerts }, acknowledged within { $minutes } minutes { $acknowledged }.
crisis-report-total = Total crisis episodes: { $episodes } (one person's messages on one local day count once).
crisis-report-protocol =
    Protocol: when a message sounds like a crisis, the bot shows lines that fit it (the writer at risk, threatened by someone, or worried about someone) and asks whether they are safe. "In danger" brings the emergency numbers and, with the person's consent, an alert to the on-call counselor (unacknowledged after { $minutes } minutes, the person is told and shown the lines again). "Want to talk" brings the earliest session, or the truth when hours are used up or no time is free, with free public help. A counselor declining a crisis-flagged booking is warned first, and the person is re-offered at once. Lines in use (sources and check dates in handlers/crisis_lines.toml):
    { $lines }
crisis-report-line = • { $name } { $number } (checked { $checked })

## Errors
error-generic = Sorry, something went wrong. Please try again.
error-not-found = We couldn't find that; it may have changed.
error-not-allowed = You can't use this right now.
book-slot-taken = Someone just booked that time. Please choose another.
book-slot-unavailable = That time can't be booked any more. Please choose another.
book-no-hours = Not enough hours left (this needs { $needed } minutes, you have { $left }).
book-overlap = You already have a session booked at { $start }, which overlaps this time. You can have only one session at a time; please choose another time.
book-ahead-cap = You already have { $booked } hours of sessions booked ahead, and your organisation allows up to { $cap } hours booked ahead at a time. Once a session has taken place, or after you cancel one, you can book more.
booking-not-active = This booking can no longer be changed.
invite-invalid = That invite code is unknown, used or expired.
feedback-closed = This feedback was already given or has expired. Thank you.

## Session modes
mode-video = Video
mode-phone = Phone
mode-in_person = In person

## Booking
book-no-hours-left = Your counseling hours for this plan year are used up or all booked. To ask about other options, contact the EAP provider: { link-provider-contact } (your employer is not told).
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
counselor-decline-crisis-warning = ⚠ This client recently hit the crisis screen. If you can, please keep this session; if you still decline, the client is offered another time and the help lines at once.
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
flood-slow-down = That's a lot of messages at once; please wait a few seconds before sending more. If you are in crisis, tell me and I will show you the help lines first.

## HR
hr-menu = Hello { $name }. You will only ever see anonymous totals here. Choose:
hr-kpi-month = KPIs, last released month
hr-kpi-year = KPIs, plan year to the last released month
hr-export = Export CSV
hr-kpi = 📊 { $organisation }: { $first_day } to { $last_day }
    { $body }
hr-digest = 📊 { $organisation }: weekly EAP summary, latest released month ({ $first_day } to { $last_day })
    { $body }
hr-digest-chart = KPI trends by released month and sessions by domain, plan year to that month.
hr-digest-csv = The released month's figures with their errors (CSV).
hr-export-ready = The plan year's released figures, month by month with their errors (CSV), are attached.
waitlist-days = We'll only offer times on:
    { $body }
weekday-0 = Monday
weekday-1 = Tuesday
weekday-2 = Wednesday
weekday-3 = Thursday
weekday-4 = Friday
weekday-5 = Saturday
weekday-6 = Sunday
