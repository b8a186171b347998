"""The daily digest: each user who has reminders due today gets one summary of them."""

from datetime import date

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from .channels import confidential_title
from .models import Reminder
from .registry import Due, register_rule_kind


def _line(item: Reminder) -> str:
    return confidential_title(item) if item.confidential else item.title


@register_rule_kind("digest.daily", "Daily digest of what is due today")
def daily_digest(rule, today: date):
    users = (get_user_model().objects.filter(is_active=True)
             .exclude(notification_preference__daily_digest=False)
             .annotate(due_today=Count("reminders", filter=Q(reminders__due_on__lte=today,
                                                              reminders__read_at__isnull=True)
                                       & ~Q(reminders__rule__kind__startswith="digest.")))
             .filter(due_today__gt=0))
    for user in users.iterator(chunk_size=500):
        items = (Reminder.objects.for_user(user).unread().filter(due_on__lte=today)
                 .exclude(rule__kind__startswith="digest.").select_related("rule")
                 .most_urgent_first()[:20])
        # The digest goes to the user's robot too, in a group chat: a confidential item is
        # named the way its app names it to those who may not open it (never its title).
        lines = [f"· {_line(item)}" for item in items]
        yield Due(record=user, recipient_ids=(user.pk,), due_on=today,
                  title=_("%(n)s items need your attention today") % {"n": user.due_today},
                  body="\n".join(lines), link=reverse("notifications:inbox"))
