"""The command line: migrate, seed-demo, chat, serve, and the operator commands."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import datetime

from bot.clock import ClockError
from bot.settings import KEY_FILE, Settings, SettingsError, load_settings
from storage.schema import SchemaNotCurrent


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eap-bot",
        description="The EAP chat bot: employees on LINE, Telegram or the console.",
        epilog="Settings come from EAP_* environment variables (and .env); see README.md.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser(
        "migrate",
        help="create or upgrade the database schema",
        description="Apply every database migration not yet applied (safe to rerun).",
    )
    commands.add_parser(
        "seed-demo",
        help="create the demo organisation DEMO (idempotent)",
        description="Create or top up organisation DEMO: roster E0001-E0200, counselors with "
        "slots over the next 14 days, and fresh one-time invite codes for a counselor and HR.",
    )
    chat = commands.add_parser(
        "chat",
        help="chat with the bot in this terminal",
        description="Talk to the bot as a console user; type the number of a choice to pick "
        "it. Reads piped standard input too.",
    )
    chat.add_argument(
        "--at",
        metavar="TIME",
        help='demo only: start the clock at this local time, e.g. "2026-12-10 10:00"; it then '
        "runs, and typing /at +2d (or +3h, +30m, +1w) jumps forward and runs the scheduled "
        "jobs, so reminders, feedback prompts and the held/no-show question arrive",
    )
    chat.add_argument(
        "--user",
        default="demo",
        help="who you are in the chat (default: demo, the linked demo employee E0001); "
        "any other name starts as a new person",
    )
    serve = commands.add_parser(
        "serve",
        help="run the web app, the scheduler and the configured channels",
        description="Serve GET /healthz, /readyz, /metrics and the webhooks of each channel "
        "whose credentials are set, deliver the outbox and run the scheduled jobs.",
    )
    serve.add_argument(
        "--role",
        choices=("all", "web", "worker"),
        default="all",
        help="all (default): everything in one process; web: webhooks and answers; worker: "
        "outbox delivery, recovery and (on the elected leader) the scheduler. web and worker "
        "need PostgreSQL",
    )
    jobs = commands.add_parser(
        "jobs",
        help="list the scheduled jobs or run one now (or, on the demo, at a set time)",
        description="The scheduler runs these by itself in `serve`; run one by hand here.",
    )
    job_commands = jobs.add_subparsers(dest="jobs_command", metavar="ACTION", required=True)
    job_commands.add_parser("list", help="the jobs' names", description="List the jobs.")
    run = job_commands.add_parser(
        "run",
        help="run one job once",
        description="Run one scheduled job once and say what it did.",
    )
    run.add_argument("name", help="the job, as `jobs list` names it")
    run.add_argument(
        "--at",
        metavar="TIME",
        help='demo only: run it as if it were this local time, e.g. "2026-12-12 09:00"',
    )
    from bot import cli_crisis, cli_crisis_ops, cli_events, cli_hr, cli_staff

    cli_crisis_ops.add_actions(cli_crisis.add_parsers(commands))
    cli_staff.add_parsers(commands)
    cli_hr.add_parsers(commands)
    cli_events.add_parsers(commands)
    from bot.channels import line_richmenu

    line_richmenu.add_parsers(commands)
    return parser


async def _migrate(settings: Settings) -> int:
    from storage.schema import migrate

    await migrate(settings.database_url)
    print("database is up to date")
    return 0


async def _seed(settings: Settings) -> int:
    from bot.clock import utcnow
    from bot.runtime import open_runtime
    from storage.db import unit_of_work
    from storage.demo import seed

    key = settings.require_pseudonym_key()
    async with open_runtime(settings) as runtime, unit_of_work(runtime.sessions) as session:
        result = await seed(session, key=key, now=utcnow())
    print(
        f"organisation {result.organisation}: {result.roster_size} employees on the roster, "
        f"{result.counselors} counselors, {result.slots_added} new slots"
    )
    print(f"one-time counselor invite code (7 days): {result.counselor_invite}")
    print(f"one-time HR invite code (7 days): {result.hr_invite}")
    codes = ", ".join(f"{number} {code}" for number, code in result.enrolment_codes.items())
    print(f"to link as a new employee of {result.organisation}, use one of: {codes}")
    return 0


async def _chat(settings: Settings, user: str, at: str | None) -> int:
    from bot.channels.console import ConsoleChat
    from bot.clock import ShiftedClock, utcnow
    from bot.demo_clock import parse_at, require_demo, run_jobs
    from bot.runtime import open_runtime

    clock = ShiftedClock(parse_at(at, settings.tz)) if at else utcnow
    async with open_runtime(settings, clock) as runtime:
        jobs = None
        if at:
            await require_demo(runtime.sessions)
            key = settings.require_pseudonym_key()

            async def jobs(now: datetime) -> None:
                await run_jobs(runtime.sessions, key, now)

        await ConsoleChat(runtime.dispatcher, user, jobs=jobs).run()
    return 0


async def _jobs(settings: Settings, args: argparse.Namespace) -> int:
    from bot.clock import utcnow
    from bot.demo_clock import job_names, parse_at, require_demo, run_jobs
    from bot.runtime import open_runtime

    if args.jobs_command == "list":
        print("\n".join(job_names()))
        return 0
    if args.name not in job_names():
        print(f"eap-bot: no job {args.name!r}; jobs: {', '.join(job_names())}", file=sys.stderr)
        return 2
    now = parse_at(args.at, settings.tz) if args.at else utcnow()
    async with open_runtime(settings) as runtime:
        if args.at:
            await require_demo(runtime.sessions)
        done = await run_jobs(runtime.sessions, settings.require_pseudonym_key(), now, [args.name])
    print(
        f"{args.name} at {now.astimezone(settings.tz):%Y-%m-%d %H:%M %Z}: {done[args.name]} done"
    )
    return 0


async def _serve(settings: Settings, role: str) -> int:
    from bot.server import serve

    await serve(settings, role)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; bad settings and an outdated database fail with a clear message."""
    args = _parser().parse_args(argv)
    if args.command == "crisis" and args.crisis_command in ("check", "train"):  # no settings
        from bot import cli_crisis

        return cli_crisis.run(args)
    try:
        settings = load_settings()
        from bot.runtime import setup_logging

        setup_logging(
            settings.log_level if args.command == "serve" else "WARNING", settings.log_format
        )
        from bot import i18n

        i18n.set_provider_contact(settings.provider_contact)
        if args.command == "serve" and not settings.provider_contact:
            import logging

            logging.getLogger(__name__).warning(
                "EAP_PROVIDER_CONTACT is not set: employees are shown the demo placeholder "
                "(0800-000-000) as the EAP provider's contact"
            )
        if args.command in ("serve", "chat", "seed-demo", "jobs"):
            settings.require_pseudonym_key()
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command == "seed-demo":
            return asyncio.run(_seed(settings))
        if args.command == "chat":
            return asyncio.run(_chat(settings, args.user, args.at))
        if args.command == "jobs":
            return asyncio.run(_jobs(settings, args))
        if args.command in ("kpi", "digest", "report"):
            from bot import cli_hr

            return asyncio.run(cli_hr.run(args, settings))
        if args.command == "events":
            from bot import cli_events

            return asyncio.run(cli_events.run(args, settings))
        if args.command == "crisis":
            from bot import cli_crisis_ops

            return asyncio.run(cli_crisis_ops.run(args, settings))
        if args.command in ("invite", "counselors", "roster"):
            from bot import cli_staff

            return asyncio.run(cli_staff.run(args, settings))
        if args.command == "line":
            from bot.channels import line_richmenu

            return asyncio.run(line_richmenu.run(args, settings))
        return asyncio.run(_serve(settings, args.role))
    except SettingsError as err:
        print(f"eap-bot: configuration error: {err}", file=sys.stderr)
        return 2
    except ClockError as err:
        print(f"eap-bot: {err}", file=sys.stderr)
        return 2
    except SchemaNotCurrent as err:
        print(f"eap-bot: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


__all__ = ["KEY_FILE", "main"]
