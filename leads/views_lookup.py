"""Lookups behind the company and project search selects (crm/core/widgets.py SearchSelect).

Each answers ?q= with the top matches as <option> elements for htmx to swap into the select:
a status option first (value "", a hint or how many matched), then the current choice
(?selected=, kept so that searching never changes the value silently), then the matches.
The reads start from the lists' selectors and their search (CompanyQuerySet.search,
ProjectQuerySet.search), so a lookup offers what the user could find on the lists; a choice the
user may not see is not offered here and is rejected by the form field anyway.
"""

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from crm.core.views_helpers import parse_pk

from . import selectors
from .forms import COMPANY_SEARCH_HINT, PROJECT_SEARCH_HINT, project_label
from .models import Company, Project

# Enough to spot the one meant among similar names; more is a list page, not a choice.
LOOKUP_LIMIT = 20


def _status(query: str, count: int, *, hint: str) -> str:
    if not query:
        return hint
    if not count:
        return _("No match for “%(query)s”") % {"query": query}
    if count >= LOOKUP_LIMIT:
        return _("The first %(count)d matches for “%(query)s”; type more to narrow them") % {
            "count": count, "query": query}
    return ngettext("%(count)d match for “%(query)s”", "%(count)d matches for “%(query)s”",
                    count) % {"count": count, "query": query}


def _options(request, *, status: str, current, matches, label):
    options = [{"value": "", "label": status, "selected": current is None}]
    if current is not None:
        options.append({"value": current.pk, "label": label(current), "selected": True})
    options += [{"value": row.pk, "label": label(row), "selected": False}
                for row in matches if current is None or row.pk != current.pk]
    return render(request, "crm/widgets/search_select_options.html", {"options": options})


def company_matches(*, user, query: str) -> list[Company]:
    """The company list's search, in the list's order (the company_name_id index)."""
    if not query:
        return []
    return list(selectors.company_queryset(user=user).prefetch_related(None)
                .search(query)[:LOOKUP_LIMIT])


def project_matches(*, user, query: str, company_id: int | None) -> list[Project]:
    """The project list's search, most recently updated first (the project one is working
    on), optionally only one company's; with a company and no text, that company's projects."""
    projects = selectors.project_queryset(user=user)
    if company_id is not None:
        projects = projects.filter(company_id=company_id)
    elif not query:
        return []
    return list(projects.search(query)[:LOOKUP_LIMIT])


@require_GET
def company_lookup(request):
    query = request.GET.get("q", "").strip()
    selected = parse_pk(request.GET.get("selected"))
    current = (selectors.company_queryset(user=request.user).prefetch_related(None)
               .filter(pk=selected).first() if selected else None)
    matches = company_matches(user=request.user, query=query)
    return _options(request, status=_status(query, len(matches), hint=str(COMPANY_SEARCH_HINT)),
                    current=current, matches=matches, label=str)


@require_GET
def project_lookup(request):
    query = request.GET.get("q", "").strip()
    selected = parse_pk(request.GET.get("selected"))
    company_id = parse_pk(request.GET.get("company"))
    current = None
    if selected:
        visible = selectors.project_queryset(user=request.user)
        if company_id is not None:  # a project of another company no longer fits the choice
            visible = visible.filter(company_id=company_id)
        current = visible.filter(pk=selected).first()
    matches = project_matches(user=request.user, query=query, company_id=company_id)
    if not query and company_id is not None:
        status = _("Projects of the chosen company") if matches else _(
            "The chosen company has no project you can see")
    else:
        status = _status(query, len(matches), hint=str(PROJECT_SEARCH_HINT))
    return _options(request, status=status, current=current, matches=matches,
                    label=project_label)
