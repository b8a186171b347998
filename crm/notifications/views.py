from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.core.views_helpers import paginate

from . import selectors, services
from .forms import PreferenceForm


def inbox(request):
    reminders = selectors.inbox(user=request.user, unread_only=request.GET.get("unread") == "1")
    page, querystring = paginate(request, reminders)
    return render(request, "notifications/inbox.html", {"page": page,
                                                        "querystring": querystring})


@require_POST
def mark_read(request, pk=None):
    services.reminder_mark_read(user=request.user, reminder_id=pk)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:inbox")


def preferences(request):
    preference = services.preference_for(request.user)
    form = PreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        services.preference_update(user=request.user, **form.cleaned_data)
        messages.success(request, _("Notification settings saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
