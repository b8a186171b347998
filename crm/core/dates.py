"""Calendar arithmetic every app shares: periods of inclusive days, months, working days.

Written once here (the floor): the dashboards' months, the parks' month ends, the funds'
working-day waits and the reminders' due dates all count days the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

# The days anyone types into this product lie within these bounds: a deal, a lease or a review
# from before 1900 or after 2199 is a typing error, and date arithmetic near date.max/min (a
# month end, "the day after") would overflow.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)


def month_first(day: date) -> date:
    return day.replace(day=1)


def next_month_first(day: date) -> date:
    """The first day of the month after `day`'s month."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_last(day: date) -> date:
    """The last day of `day`'s month."""
    return next_month_first(day) - timedelta(days=1)


def previous_month_first(day: date) -> date:
    return (month_first(day) - timedelta(days=1)).replace(day=1)


def is_working_day(day: date) -> bool:
    """Monday to Friday. Public holidays (and the weekend days worked in their place) are not
    modelled: a bureau's calendar differs by year and is announced late."""
    return day.weekday() < 5


def add_working_days(day: date, days: int) -> date:
    """`days` working days after `day`."""
    while days > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


def working_days_back(day: date, days: int) -> date:
    """The latest date from which `days` working days have passed by `day`: the inverse of
    add_working_days, so `add_working_days(since, n) <= day` ⇔ `since <= working_days_back(
    day, n)`. A cutoff for "waiting more than n working days" that SQL can compare with."""
    if days <= 0:
        return day
    # (since, day] must hold `days` working days: find the last of them counting back from
    # `day`; the day before it is the latest `since` (earlier weekend days reach no later).
    counted = 0
    while True:
        if is_working_day(day):
            counted += 1
            if counted == days:
                return day - timedelta(days=1)
        day -= timedelta(days=1)


def day_start(day: date) -> datetime:
    """The aware moment a local day begins."""
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class Period:
    """A span of whole local days, both ends included (as people write "1 to 31 March")."""

    start: date
    end: date

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = date(year, month, 1)
        return cls(first, month_last(first))

    @classmethod
    def years(cls, first: int, last: int) -> Period:
        return cls(date(first, 1, 1), date(last, 12, 31))

    def bounds(self) -> tuple[datetime, datetime]:
        """Aware datetimes [start of the first day, start of the day after the last)."""
        return day_start(self.start), day_start(self.end + timedelta(days=1))

    def months(self) -> list[date]:
        """The first day of every month the period touches."""
        first, months = month_first(self.start), []
        while first <= self.end:
            months.append(first)
            first = next_month_first(first)
        return months

    def month_windows(self) -> list[Period]:
        """The period cut at month boundaries: one Period per month it touches."""
        return [Period(max(first, self.start), min(month_last(first), self.end))
                for first in self.months()]

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end
