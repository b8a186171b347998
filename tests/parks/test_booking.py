"""The invariant: never two active assignments of one unit whose periods overlap."""

import threading
from datetime import date, timedelta

import pytest
from django.db import connection, connections

from crm.core.exceptions import ConflictError
from parks import services
from parks.models import Assignment
from tests.factories import CompanyFactory, make_unit, system_admin

D = date


@pytest.fixture
def unit(db):
    return make_unit(area="250")


def book(unit, start, end, kind="lease", **kwargs):
    return services.assignment_create(by=system_admin(), unit=unit,
                                      company=kwargs.pop("company", None) or CompanyFactory(),
                                      kind=kind, start=start, end=end, **kwargs)


@pytest.mark.django_db
def test_back_to_back_periods_are_allowed(unit):
    book(unit, D(2027, 1, 1), D(2027, 2, 1))
    book(unit, D(2027, 2, 1), D(2027, 3, 1))
    assert Assignment.objects.filter(unit=unit, status="active").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("start,end", [
    (D(2027, 1, 31), D(2027, 2, 15)),   # starts on the last day of the first
    (D(2026, 12, 1), D(2027, 1, 2)),    # ends on its first day
    (D(2026, 6, 1), None),              # an open-ended sale covers everything after
    (D(2027, 1, 10), D(2027, 1, 20)),   # inside
])
def test_overlaps_are_refused_naming_the_assignment(unit, start, end):
    first = book(unit, D(2027, 1, 1), D(2027, 2, 1))
    with pytest.raises(ConflictError) as error:
        book(unit, start, end, kind="sale" if end is None else "lease")
    assert error.value.existing == first
    assert f"#{first.pk}" in error.value.message


@pytest.mark.django_db
def test_database_constraint_refuses_overlap_the_service_did_not_check(unit):
    from django.db import IntegrityError, transaction

    book(unit, D(2027, 1, 1), D(2027, 2, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(unit=unit, company=CompanyFactory(), kind="lease",
                                  start=D(2027, 1, 15), end=D(2027, 3, 1), area_m2=10)


@pytest.mark.django_db
def test_ending_or_cancelling_frees_the_unit(unit):
    lease = book(unit, D(2027, 1, 1), D(2028, 1, 1))
    services.assignment_end(by=system_admin(), assignment=lease, last_day=D(2027, 5, 31))
    lease.refresh_from_db()
    assert lease.end == D(2027, 6, 1) and lease.last_day == D(2027, 5, 31)
    book(unit, D(2027, 6, 1), D(2028, 1, 1))
    draft_like = book(unit, D(2028, 1, 1), D(2029, 1, 1))
    services.assignment_terminate(by=system_admin(), assignment=draft_like)
    book(unit, D(2028, 3, 1), D(2028, 6, 1))


@pytest.mark.django_db
def test_reservation_expires_and_frees_the_unit(unit):
    today = date.today()
    hold = book(unit, today - timedelta(days=10), today + timedelta(days=300),
                kind="reservation", hold_until=today - timedelta(days=1))
    assert services.reservations_expire(today=today) == 1
    assert services.reservations_expire(today=today) == 0  # a second run finds nothing
    hold.refresh_from_db()
    assert hold.status == "ended" and hold.outcome == "expired"
    assert hold.end == today
    book(unit, today, today + timedelta(days=30))


@pytest.mark.django_db
def test_converting_a_reservation_keeps_its_history(unit):
    today = date.today()
    hold = book(unit, today, today + timedelta(days=60), kind="reservation")
    lease = services.reservation_convert(assignment=hold, start=today + timedelta(days=10),
                                         by=system_admin(), end=today + timedelta(days=375))
    hold.refresh_from_db()
    assert lease.converted_from == hold and hold.outcome == "converted"
    assert hold.end == lease.start  # held until the lease begins, then back to back
    assert lease.company == hold.company and lease.kind == "lease"


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_bookings_one_wins(unit):
    """20 threads, each with its own connection and transaction, book overlapping periods of
    one unit at the same moment: exactly one succeeds, 19 get the conflict."""
    companies = [CompanyFactory() for _ in range(20)]
    barrier = threading.Barrier(20)
    results: list[str] = []
    lock = threading.Lock()

    def attempt(i):
        try:
            barrier.wait()
            services.assignment_create(by=system_admin(),
                unit=unit, company=companies[i], kind="lease",
                start=D(2027, 1, 1) + timedelta(days=i), end=D(2027, 6, 1) + timedelta(days=i))
            outcome = "ok"
        except ConflictError:
            outcome = "conflict"
        except Exception as error:  # noqa: BLE001 (report anything else as a failure)
            outcome = f"error: {error!r}"
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["conflict"] * 19 + ["ok"], results
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT count(*) FROM parks_assignment a JOIN parks_assignment b
              ON a.unit_id = b.unit_id AND a.id < b.id
             WHERE a.status = 'active' AND b.status = 'active'
               AND daterange(a.start, a."end", '[)') && daterange(b.start, b."end", '[)')
        """)
        assert cursor.fetchone()[0] == 0
