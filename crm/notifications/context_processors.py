from .models import Reminder


def inbox(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_count": Reminder.objects.for_user(user).unread().count()}
