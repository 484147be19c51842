"""The runtime: settings, web app, dispatch, channels, scheduler, i18n."""

import os

# python-telegram-bot 22 returns durations (retry_after) as timedelta when this is set, as
# version 23 will always do; the code reads both. Opting in silences its deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "1")
