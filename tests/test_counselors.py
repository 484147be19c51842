"""Counselors: linking, notifications, agenda, outcomes, declining, slots, waitlist, roles."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from handlers.jobs import send_feedback_prompts
from handlers.staff_jobs import ask_outcomes, rotate_waitlist, send_agendas
from handlers.types import Key, Lines, from_payload
from storage import orgs, staff
from storage.db import unit_of_work
from storage.models import Booking, BookingStatus, Counselor, OutboxMessage, Slot
from tests.conftest import TEST_KEY
from tests.helpers import Chat, local_date
from tests.test_dialog_booking import book_first
from tests.test_dialog_onboarding import link, seed_demo

KEY = TEST_KEY.encode()


async def invite_counselor(sessions, clock, name: str = "王心怡") -> str:
    """A fresh invite code for a demo counselor."""
    async with unit_of_work(sessions) as session:
        counselor = await session.scalar(select(Counselor).where(Counselor.display_name == name))
        org = await orgs.by_id(session, counselor.organisation_id)
        return await staff.issue_invite(session, org=org, now=clock(), counselor=counselor)


async def linked_counselor(
    dispatcher, sessions, clock, user: str = "dr-wang", name: str = "王心怡"
) -> Chat:
    chat = Chat(dispatcher, user)
    code = await invite_counselor(sessions, clock, name)
    await chat.say(code.lower())
    assert chat.keys == ["counselor-linked", "counselor-menu"]
    return chat


async def messages_to(sessions, recipient: str) -> list[list]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.id)
        )
        return [from_payload(r.payload) for r in rows]


async def first_booking(sessions) -> Booking:
    async with sessions() as session:
        return await session.scalar(select(Booking).order_by(Booking.id))


async def test_invite_links_once_and_expires(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    code = await invite_counselor(sessions, clock)
    first = Chat(dispatcher, "c1")
    await first.say(f"/start {code}")
    assert first.keys == ["counselor-linked", "counselor-menu"]
    second = Chat(dispatcher, "c2")
    await second.say(code)
    assert second.keys == ["invite-invalid"]
    late = await invite_counselor(sessions, clock, "林志明")
    clock.advance(days=8)
    await second.say(late)
    assert second.keys == ["invite-invalid"]


async def test_new_booking_notifies_the_counselor_with_alias_note_and_flag(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    counselor = await linked_counselor(dispatcher, sessions, clock)
    employee = Chat(dispatcher, "emp")
    await link(employee)
    await employee.say("I want to die")
    params = await book_first(employee, note="work stress")
    assert employee.replies[0].attachment.filename == "appointment.ics"
    ics = employee.replies[0].attachment.content.decode()
    assert "SUMMARY:預約" in ics and "EAP" not in ics and "心理" not in ics
    [notice] = await messages_to(sessions, "dr-wang")
    assert [r.key for r in notice] == ["counselor-new-booking", "counselor-note"]
    assert notice[0].params["start"] == params["start"]
    assert notice[0].params["domain"] == Key("domain-psychology")
    assert notice[0].params["flag"] == 1
    assert notice[0].params["client"].startswith("C-")
    assert notice[1].params == {"note": "work stress"}
    assert "emp" not in str(notice) and "E0002" not in str(notice)
    await counselor.tap("co:up")
    assert counselor.keys == ["counselor-booking-line", "counselor-more"]
    assert counselor.replies[0].params["client"] == notice[0].params["client"]


async def test_alias_is_stable_per_counselor_and_differs_between_counselors() -> None:
    from storage.counselors import client_alias

    assert client_alias(KEY, 1, "p") == client_alias(KEY, 1, "p")
    assert client_alias(KEY, 1, "p") != client_alias(KEY, 2, "p")
    assert client_alias(KEY, 1, "p") != client_alias(KEY, 1, "q")


async def test_decline_within_window_returns_hours_and_offers_other_slots(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    counselor = await linked_counselor(dispatcher, sessions, clock)
    employee = Chat(dispatcher, "emp")
    await link(employee)
    await book_first(employee)
    booking = await first_booking(sessions)
    await counselor.tap(f"co:dec:{booking.id}")
    assert counselor.keys == ["counselor-decline-confirm"]
    await counselor.choose("counselor-decline-yes")
    assert counselor.keys == ["counselor-declined", "counselor-menu"]
    [told] = await messages_to(sessions, "emp")
    assert told[0].key == "booking-declined"
    assert told[0].choices[0].payload == "bk:m:psychology:video"
    await employee.tap("hrs")
    assert employee.replies[0].params["left"] == 8


async def test_decline_after_the_window_is_refused(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    counselor = await linked_counselor(dispatcher, sessions, clock)
    employee = Chat(dispatcher, "emp")
    await link(employee)
    await book_first(employee)
    booking = await first_booking(sessions)
    clock.advance(hours=13)
    await counselor.tap(f"co:decy:{booking.id}")
    assert counselor.keys == ["counselor-decline-too-late", "counselor-menu"]
    assert counselor.replies[0].params == {"hours": 12}


async def test_counselor_a_cannot_see_or_change_counselor_b_bookings(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    other = await linked_counselor(dispatcher, sessions, clock, "dr-lin", "林志明")
    await linked_counselor(dispatcher, sessions, clock)
    employee = Chat(dispatcher, "emp")
    await link(employee)
    await book_first(employee)
    booking = await first_booking(sessions)
    async with sessions() as session:
        owner = await session.get(Counselor, booking.counselor_id)
    assert owner.display_name == "王心怡"
    for payload in (f"co:b:{booking.id}", f"co:decy:{booking.id}", f"co:held:{booking.id}"):
        await other.tap(payload)
        assert other.keys[0] == "error-not-found", payload
    await other.tap("co:up")
    assert other.keys == ["counselor-upcoming-none"]
    assert (await first_booking(sessions)).status == BookingStatus.BOOKED


async def test_employees_cannot_use_counselor_commands(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    employee = Chat(dispatcher, "emp")
    await link(employee)
    await book_first(employee)
    booking = await first_booking(sessions)
    for payload in ("co", "co:up", f"co:held:{booking.id}", f"co:decy:{booking.id}"):
        await employee.tap(payload)
        assert employee.keys[0] == "error-not-allowed", payload
    assert (await first_booking(sessions)).status == BookingStatus.BOOKED


async def test_counselors_cannot_use_employee_commands(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    counselor = await linked_counselor(dispatcher, sessions, clock)
    for payload in ("bk", "hrs", "my", "fb"):
        await counselor.tap(payload)
        assert counselor.keys[:2] == ["error-not-allowed", "counselor-menu"], payload


async def test_outcomes_held_then_feedback_and_no_show_by_policy(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    counselor = await linked_counselor(dispatcher, sessions, clock)
    employee = Chat(dispatcher, "emp")
    await link(employee)
    params = await book_first(employee)
    booking = await first_booking(sessions)
    await counselor.tap(f"co:held:{booking.id}")
    assert counselor.keys[0] == "counselor-outcome-too-early"
    clock.now = params["start"] + timedelta(minutes=61)
    assert await ask_outcomes(sessions, clock(), KEY) == 1
    assert await ask_outcomes(sessions, clock(), KEY) == 0
    clock.advance(hours=2)
    assert await ask_outcomes(sessions, clock(), KEY) == 1
    asked = [m[0].key for m in await messages_to(sessions, "dr-wang")]
    assert asked[-2:] == ["counselor-ask-outcome", "counselor-ask-outcome-again"]
    await counselor.tap(f"co:held:{booking.id}")
    assert counselor.keys == ["counselor-outcome-saved"]
    assert await send_feedback_prompts(sessions, clock()) == 1
    await employee.tap("hrs")
    assert (employee.replies[0].params["used"], employee.replies[0].params["left"]) == (1, 7)


async def test_daily_agenda_once_after_eight(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    await linked_counselor(dispatcher, sessions, clock)
    employee = Chat(dispatcher, "emp")
    await link(employee)
    params = await book_first(employee)
    local = params["start"]
    clock.now = local.replace(hour=7, minute=59) - timedelta(seconds=0)
    assert await send_agendas(sessions, clock(), KEY) == 0
    clock.now = local.replace(hour=8, minute=0)
    assert await send_agendas(sessions, clock(), KEY) == 1
    assert await send_agendas(sessions, clock(), KEY) == 0
    agenda = (await messages_to(sessions, "dr-wang"))[-1]
    assert agenda[0].key == "counselor-agenda-title" and agenda[0].params["count"] == 1
    assert agenda[1].key == "counselor-agenda-line"
    assert agenda[1].params["start"] == params["start"]


async def test_expired_licence_hides_slots_and_counselor_is_told(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    counselor = await linked_counselor(dispatcher, sessions, clock)
    async with unit_of_work(sessions) as session:
        row = await session.scalar(select(Counselor).where(Counselor.display_name == "王心怡"))
        row.licence_expires_on = date(2026, 11, 1)
        wang_slots = {
            s.id for s in await session.scalars(select(Slot).where(Slot.counselor_id == row.id))
        }
    employee = Chat(dispatcher, "emp")
    await link(employee)
    await employee.tap("bk:m:psychology:in_person")
    assert employee.keys == ["book-no-slots"]
    await employee.tap("bk:m:psychology:video")
    await employee.choose("book-day")
    offered = {
        int(c.payload.split(":")[2])
        for c in employee.replies[0].choices
        if c.payload.startswith("bk:s:")
    }
    assert offered and offered.isdisjoint(wang_slots)
    await counselor.say("menu")
    assert counselor.keys == ["counselor-licence-expired", "counselor-menu"]
    assert counselor.replies[0].params == {"until": date(2026, 11, 1)}


async def test_add_and_block_slots_never_touch_booked_ones(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    counselor = await linked_counselor(dispatcher, sessions, clock)
    await counselor.tap("co:add")
    day = counselor.replies[0].choices[2].params["day"]
    await counselor.choose("book-day", 2)
    assert counselor.keys == ["counselor-add-time"]
    await counselor.tap(f"co:at:{day:%Y%m%d}:1930")
    assert counselor.keys == ["counselor-slot-added"]
    assert counselor.replies[0].params["start"].hour == 19
    await counselor.tap(f"co:at:{day:%Y%m%d}:1930")
    assert counselor.keys[0] == "book-slot-unavailable"
    employee = Chat(dispatcher, "emp")
    await link(employee)
    await book_first(employee)
    booking = await first_booking(sessions)
    await counselor.tap(f"co:bs:{booking.slot_id}")
    assert counselor.keys[0] == "book-slot-taken"
    await counselor.tap("co:blk")
    target = counselor.replies[0].choices[0].payload
    await counselor.tap(target)
    assert counselor.keys == ["counselor-slot-blocked"]
    async with sessions() as session:
        assert (await session.get(Slot, int(target.split(":")[2]))).blocked is True
        assert (await session.get(Slot, booking.slot_id)).blocked is False


async def test_freed_slot_goes_to_the_first_on_the_waitlist_then_moves_on(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    async with unit_of_work(sessions) as session:
        for counselor in await session.scalars(select(Counselor)):
            if counselor.domains == "nutrition":
                counselor.modes = "video"
        for slot in await session.scalars(
            select(Slot).join(Counselor).where(Counselor.domains == "nutrition")
        ):
            slot.blocked = True
        keep = await session.scalar(
            select(Slot)
            .join(Counselor)
            .where(Counselor.domains == "nutrition", Slot.starts_at > clock() + timedelta(days=2))
            .order_by(Slot.starts_at)
        )
        keep.blocked = False
    holder, first, second = (Chat(dispatcher, n) for n in ("holder", "first", "second"))
    for chat, number in ((holder, "E0002"), (first, "E0003"), (second, "E0004")):
        await link(chat, number)
    await holder.tap("bk:m:nutrition:video")
    await holder.choose("book-day")
    await holder.choose("book-slot")
    await holder.choose("book-confirm-yes")
    for chat in (first, second):
        await chat.tap("bk:m:nutrition:video")
        assert chat.keys == ["book-no-slots"]
        await chat.choose("waitlist-join")
        assert chat.keys == ["waitlist-joined"]
        clock.advance(seconds=1)
    await holder.tap("my")
    await holder.choose("my-cancel")
    await holder.choose("cancel-yes")
    [offer] = await messages_to(sessions, "first")
    assert offer[0].key == "waitlist-offer" and offer[0].params["minutes"] == 30
    assert await messages_to(sessions, "second") == []
    await second.tap(offer[0].choices[0].payload)
    assert second.keys == ["book-slot-unavailable", "book-no-slots"]
    clock.advance(minutes=31)
    assert await rotate_waitlist(sessions, clock(), KEY) == 1
    [offer_two] = await messages_to(sessions, "second")
    assert offer_two[0].choices[0].payload == offer[0].choices[0].payload
    await second.tap(offer_two[0].choices[0].payload)
    await second.choose("book-confirm-yes")
    assert second.keys == ["book-confirmed"]


async def test_weekly_series_books_what_slots_and_hours_allow(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    async with unit_of_work(sessions) as session:  # this test is about slots and yearly hours
        (await orgs.by_code(session, "DEMO")).max_minutes_ahead = 600
    counselor = await linked_counselor(dispatcher, sessions, clock)
    employee = Chat(dispatcher, "emp")
    await link(employee)
    params = await book_first(employee)
    booking = await first_booking(sessions)
    async with unit_of_work(sessions) as session:
        start = booking.starts_at + timedelta(weeks=2)
        session.add(
            Slot(
                counselor_id=booking.counselor_id,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                blocked=True,
            )
        )
    await counselor.tap(f"co:b:{booking.id}")
    await counselor.choose("counselor-offer-series")
    assert counselor.keys == ["series-choose"]
    await counselor.tap(f"co:sero:{booking.id}:1:8")
    assert counselor.keys == ["series-offered"]
    [offer] = await messages_to(sessions, "emp")
    assert offer[0].key == "series-offer"
    assert (offer[0].params["weeks"], offer[0].params["count"]) == (1, 8)
    await employee.tap(offer[0].choices[0].payload)
    assert employee.keys[0] == "series-result"
    # Week 2 is blocked; weeks 6-8 fall in the next plan year (from 1 January), with new hours.
    assert employee.replies[0].params == {"booked": 7, "total": 8}
    skipped = {
        r.params["start"]: r.params["reason"]
        for r in employee.replies
        if r.key == "series-skipped-line"
    }
    assert skipped == {
        params["start"] + timedelta(weeks=2): Lines([("book-slot-unavailable", {})])
    }
    await employee.tap("hrs")
    # The hours view is today's plan year (from 1 January in Taipei): count what falls in it.
    sessions_held = [params["start"] + timedelta(weeks=k) for k in (0, 1, 3, 4, 5, 6, 7, 8)]
    this_year = local_date(clock()).year
    assert employee.replies[0].params["left"] == 8 - sum(
        local_date(s).year == this_year for s in sessions_held
    )
    await employee.tap(offer[0].choices[0].payload)
    assert employee.keys[0] == "series-closed"
    notices = [m[0].key for m in await messages_to(sessions, "dr-wang")]
    assert notices.count("counselor-new-booking") == 1 + 7


async def test_a_series_stops_at_the_cap_on_hours_booked_ahead(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    counselor = await linked_counselor(dispatcher, sessions, clock)
    employee = Chat(dispatcher, "emp")
    await link(employee)
    params = await book_first(employee)
    booking = await first_booking(sessions)
    await counselor.tap(f"co:sero:{booking.id}:1:4")
    [offer] = await messages_to(sessions, "emp")
    await employee.tap(offer[0].choices[0].payload)
    # The anchor and three weekly sessions make the default 4 hours ahead; the fourth waits.
    assert employee.replies[0].params == {"booked": 3, "total": 4}
    [skipped] = [r for r in employee.replies if r.key == "series-skipped-line"]
    assert skipped.params["start"] == params["start"] + timedelta(weeks=4)
    assert skipped.params["reason"] == Lines([("book-ahead-cap", {"cap": 4.0, "booked": 4.0})])
    notices = [m[0].key for m in await messages_to(sessions, "dr-wang")]
    assert notices.count("counselor-new-booking") == 1 + 3


async def test_someone_else_cannot_confirm_a_series(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    counselor = await linked_counselor(dispatcher, sessions, clock)
    employee, other = Chat(dispatcher, "emp"), Chat(dispatcher, "other")
    await link(employee)
    await link(other, "E0005")
    await book_first(employee)
    booking = await first_booking(sessions)
    await counselor.tap(f"co:sero:{booking.id}:2:4")
    [offer] = await messages_to(sessions, "emp")
    await other.tap(offer[0].choices[0].payload)
    assert other.keys[0] == "error-not-found"


async def test_waitlist_can_be_limited_to_some_weekdays(dispatcher, sessions, clock) -> None:
    from storage.models import WaitlistEntry

    await seed_demo(sessions, clock)
    employee = Chat(dispatcher, "emp")
    await link(employee)
    await employee.tap("wl:j:nutrition")
    assert employee.keys == ["waitlist-joined"]
    await employee.choose("weekday-2")
    await employee.choose("weekday-4")
    assert employee.keys == ["waitlist-days"]
    assert [k for k, _ in employee.replies[0].params["body"]] == ["weekday-2", "weekday-4"]
    async with sessions() as session:
        entry = await session.scalar(select(WaitlistEntry))
    assert entry.weekdays == "2,4"


async def test_daily_cap_hides_a_full_day(dispatcher, sessions, clock) -> None:
    await seed_demo(sessions, clock)
    employee = Chat(dispatcher, "emp")
    await link(employee)
    params = await book_first(employee)
    async with unit_of_work(sessions) as session:
        counselor = await session.scalar(
            select(Counselor).join(Booking, Booking.counselor_id == Counselor.id)
        )
        counselor.daily_cap = 1
        same_day = {
            s.id
            for s in await session.scalars(
                select(Slot).where(
                    Slot.counselor_id == counselor.id,
                    Slot.starts_at > params["start"],
                    Slot.starts_at < params["start"] + timedelta(hours=8),
                )
            )
        }
    other = Chat(dispatcher, "other")
    await link(other, "E0007")
    await other.tap("bk:m:psychology:video")
    await other.choose("book-day")
    offered = {
        int(c.payload.split(":")[2])
        for c in other.replies[0].choices
        if c.payload.startswith("bk:s:")
    }
    assert same_day and offered.isdisjoint(same_day)
    await other.tap(f"bk:ok:{min(same_day)}:psychology:video")
    assert other.keys[0] == "book-slot-unavailable"


async def test_no_show_uses_hours_only_when_the_organisation_says_so(
    dispatcher, sessions, clock
) -> None:
    await seed_demo(sessions, clock)
    counselor = await linked_counselor(dispatcher, sessions, clock)
    employee = Chat(dispatcher, "emp")
    await link(employee)
    params = await book_first(employee)
    booking = await first_booking(sessions)
    async with unit_of_work(sessions) as session:
        org = await orgs.by_code(session, "DEMO")
        org.no_show_uses_hours = False
    clock.now = params["start"] + timedelta(hours=2)
    await counselor.tap(f"co:ns:{booking.id}")
    assert counselor.keys == ["counselor-no-show-saved"]
    await employee.tap("hrs")
    assert (employee.replies[0].params["used"], employee.replies[0].params["left"]) == (0, 8)
