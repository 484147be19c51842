# English — Telegram only: the command menu shown next to the message box (setMyCommands).
# Each description must stay within 256 characters.

telegram-command-start = Start, or link with your organisation code
telegram-command-menu = Main menu
telegram-command-book = Book a counseling session
telegram-command-bookings = My bookings: cancel or reschedule
telegram-command-hours = My counseling hours
telegram-command-feedback = Pending feedback
telegram-command-about = About the EAP
telegram-command-language = Language 語言
telegram-command-privacy = Privacy and forget me
telegram-command-help = How to use this bot
