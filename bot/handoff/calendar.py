"""Office hours: when staff can take over a conversation.

Configured in ``knowledge/city.yml`` under ``office:`` (weekdays, opening and closing
time, extra closed dates, the 年末年始 closure); Japanese public holidays come from
jpholiday. Pure code: give it a time, it says whether the counter is open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.contract import LOCAL_TIMEZONE
from bot.errors import ConfigError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
JA_WEEKDAYS = "月火水木金土日"


def _time(value: str, name: str) -> dt.time:
    if str(value) == "24:00":  # end of day
        return dt.time.max
    try:
        h, m = str(value).split(":")
        return dt.time(int(h), int(m))
    except (ValueError, TypeError):
        raise ConfigError(f"office.{name} must be HH:MM; got {value!r}", hint='e.g. open: "08:30"') from None


@dataclass(frozen=True)
class OfficeCalendar:
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    open: dt.time = dt.time(8, 30)
    close: dt.time = dt.time(17, 15)
    closed_dates: frozenset[dt.date] = field(default_factory=frozenset)
    year_end_closure: bool = True  # 12/29 – 1/3
    public_holidays: bool = True
    timezone: str = LOCAL_TIMEZONE

    @classmethod
    def from_config(cls, office: dict | None) -> "OfficeCalendar":
        office = office or {}
        days = office.get("weekdays", ["mon", "tue", "wed", "thu", "fri"])
        try:
            weekdays = tuple(WEEKDAYS.index(str(d).lower()[:3]) for d in days)
        except ValueError:
            raise ConfigError(f"office.weekdays must name days like mon, tue; got {days!r}") from None
        closed = set()
        for d in office.get("closed_dates") or []:
            try:
                closed.add(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)))
            except ValueError:
                raise ConfigError(f"office.closed_dates: {d!r} is not a YYYY-MM-DD date") from None
        tz = str(office.get("timezone", LOCAL_TIMEZONE))
        try:
            ZoneInfo(tz)
        except Exception:  # noqa: BLE001 - zoneinfo raises several kinds
            raise ConfigError(f"office.timezone: unknown time zone {tz!r}", hint="e.g. Asia/Tokyo") from None
        cal = cls(
            weekdays=weekdays,
            open=_time(office.get("open", "08:30"), "open"),
            close=_time(office.get("close", "17:15"), "close"),
            closed_dates=frozenset(closed),
            year_end_closure=bool(office.get("year_end_closure", True)),
            public_holidays=bool(office.get("public_holidays", True)),
            timezone=tz,
        )
        if cal.close <= cal.open:
            raise ConfigError(f"office.close ({cal.close}) must be after office.open ({cal.open})")
        return cal

    def local(self, when: dt.datetime) -> dt.datetime:
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        return when.astimezone(ZoneInfo(self.timezone))

    def is_working_day(self, day: dt.date) -> bool:
        if day.weekday() not in self.weekdays or day in self.closed_dates:
            return False
        if self.year_end_closure and ((day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)):
            return False
        if self.public_holidays:
            import jpholiday

            if jpholiday.is_holiday(day):
                return False
        return True

    def is_open(self, when: dt.datetime) -> bool:
        local = self.local(when)
        return self.is_working_day(local.date()) and self.open <= local.time() < self.close

    def next_opening(self, when: dt.datetime) -> dt.datetime:
        """The next time the counter opens (``when`` itself if open now)."""
        local = self.local(when)
        if self.is_open(local):
            return local
        day = local.date()
        if local.time() >= self.open:
            day += dt.timedelta(days=1)
        for _ in range(30):
            if self.is_working_day(day):
                return dt.datetime.combine(day, self.open, tzinfo=local.tzinfo)
            day += dt.timedelta(days=1)
        raise ConfigError("no working day in the next 30 days", hint="check office.weekdays and closed_dates")

    def add_working_days(self, when: dt.datetime, days: int) -> dt.date:
        """The date ``days`` working days after ``when`` (for ticket reply promises)."""
        day = self.local(when).date()
        added = 0
        while added < days:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                added += 1
        return day


def describe_date(day: dt.date) -> str:
    """「12月1日（火）」"""
    return f"{day.month}月{day.day}日（{JA_WEEKDAYS[day.weekday()]}）"
