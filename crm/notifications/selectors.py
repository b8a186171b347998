from .models import Reminder


def inbox(*, user, unread_only: bool = False):
    reminders = Reminder.objects.for_user(user).select_related("rule").order_by(
        "read_at", "-created_at", "-pk")
    return reminders.unread() if unread_only else reminders
