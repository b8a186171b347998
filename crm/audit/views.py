from django.shortcuts import render

from crm.accounts.roles import Role
from crm.core.permissions import role_required
from crm.core.views_helpers import paginate

from . import selectors


@role_required(Role.LEADER)
def access_list(request):
    """Who read which confidential record: the leaders' report."""
    filterset = selectors.access_list(user=request.user, filters=request.GET)
    page, querystring = paginate(request, filterset.qs)
    selectors.name_records(user=request.user, records=page)
    return render(request, "audit/access_list.html",
                  {"filter": filterset, "page": page, "querystring": querystring})


@role_required(Role.ADMINISTRATOR)
def denied_list(request):
    """Refused attempts: the failed-authorisation log, for administrators."""
    page, querystring = paginate(request, selectors.denied_list(user=request.user))
    return render(request, "audit/denied_list.html", {"page": page, "querystring": querystring})
