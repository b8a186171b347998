"""Setting the clock back for fund tests. The services stamp every step with the current
moment, and a publicity may start no earlier than the review before it ended: a test that needs
a publicity already over moves the application's history into the past first."""

import datetime

from django.db.models import F
from django.utils import timezone

from crm.core.dates import add_working_days
from funds.models import Application, Review, Transition

REVIEWED_DAYS_AGO = 21  # calendar days: a 5-working-day publicity from then is over by today


def backdate(application, *, days: int = REVIEWED_DAYS_AGO) -> datetime.date:
    """Shift the application's history `days` back; returns the (local) day it now entered
    its current state."""
    shift = datetime.timedelta(days=days)
    Transition.objects.filter(application=application).update(at=F("at") - shift)
    Review.objects.filter(application=application).update(at=F("at") - shift)
    Application.objects.filter(pk=application.pk).update(
        state_changed_at=F("state_changed_at") - shift, submitted_at=F("submitted_at") - shift)
    return timezone.localdate(Application.objects.get(pk=application.pk).state_changed_at)


def past_publicity(days: int = REVIEWED_DAYS_AGO, working_days: int = 5):
    """(start, end) of a publicity that began `days` ago and lasted `working_days`."""
    start = timezone.localdate() - datetime.timedelta(days=days)
    return start, add_working_days(start, working_days)
