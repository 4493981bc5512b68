import datetime as dt

import pytest

from bot.errors import ConfigError
from bot.handoff.calendar import OfficeCalendar, describe_date

JST = dt.timezone(dt.timedelta(hours=9))
CAL = OfficeCalendar.from_config({"open": "08:30", "close": "17:15", "closed_dates": ["2026-12-04"]})


def at(y, m, d, hh, mm):
    return dt.datetime(y, m, d, hh, mm, tzinfo=JST)


@pytest.mark.parametrize(
    "when, open_",
    [
        (at(2026, 12, 1, 10, 0), True),  # Tuesday
        (at(2026, 12, 1, 8, 29), False),
        (at(2026, 12, 1, 17, 15), False),
        (at(2026, 12, 5, 10, 0), False),  # Saturday
        (at(2026, 11, 23, 10, 0), False),  # 勤労感謝の日
        (at(2026, 12, 29, 10, 0), False),  # 年末年始
        (at(2027, 1, 4, 10, 0), True),
        (at(2026, 12, 4, 10, 0), False),  # the city's own closed day
    ],
)
def test_is_open(when, open_):
    assert CAL.is_open(when) is open_


def test_utc_input_is_converted():
    assert CAL.is_open(dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.timezone.utc))  # 10:00 JST


def test_next_opening_skips_year_end():
    nxt = CAL.next_opening(at(2026, 12, 28, 18, 0))
    assert (nxt.date(), nxt.hour, nxt.minute) == (dt.date(2027, 1, 4), 8, 30)


def test_working_days_for_ticket_replies():
    assert CAL.add_working_days(at(2026, 12, 3, 10, 0), 3) == dt.date(2026, 12, 9)  # skips 4th (closed) and weekend


def test_bad_config_names_the_setting():
    with pytest.raises(ConfigError, match="office.open"):
        OfficeCalendar.from_config({"open": "half past eight"})
    with pytest.raises(ConfigError, match="office.weekdays"):
        OfficeCalendar.from_config({"weekdays": ["monday", "funday"]})


def test_describe_date():
    assert describe_date(dt.date(2026, 12, 1)) == "12月1日（火）"
