"""Entry point: `python bot.py COMMAND` (the same as the `eap-bot` console script)."""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main())
