"""The administrators' reference-data screens (crm.core.setup_screens): one index, and a list,
a form and a delete confirmation for every registered screen. The views parse and render; the
permission and the write are reference_save's and reference_delete's."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .permissions import require
from .setup_screens import (
    can_add,
    can_change,
    can_delete,
    can_view,
    reference_delete,
    reference_save,
    require_add,
    require_change,
    require_delete,
    setup_screens,
)
from .views_helpers import add_service_error


def _screen(key: str):
    screen = setup_screens.get(key)
    if screen is None:
        raise Http404(_("There is no such settings page."))
    return screen


def _visible(request, key: str):
    screen = _screen(key)
    require(can_view(request.user, screen), _("This settings page is for administrators."))
    return screen


def setup_index(request):
    screens = setup_screens.for_user(request.user)
    if not screens:
        raise PermissionDenied(_("This settings page is for administrators."))
    return render(request, "crm/setup/index.html", {"screens": screens})


def setup_list(request, key):
    screen = _visible(request, key)
    rows = list(screen.rows())
    return render(request, "crm/setup/list.html", {
        "screen": screen, "screens": setup_screens.for_user(request.user),
        "rows": [(row, [(column, column.of(row)) for column in screen.columns]) for row in rows],
        "may_add": can_add(request.user, screen), "may_change": can_change(request.user, screen),
    })


def _form_view(request, screen, instance):
    form = screen.form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            saved = reference_save(screen=screen, by=request.user, instance=instance,
                                   data=form.service_kwargs())
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, capfirst(_("%(what)s “%(row)s” saved.")
                                               % {"what": screen.noun,
                                                  "row": screen.row_label(saved)}))
            return redirect("setup:list", key=screen.key)
    return render(request, "crm/setup/form.html", {
        "screen": screen, "form": form, "row": instance,
        "may_delete": instance is not None and can_delete(request.user, screen),
    })


def setup_create(request, key):
    screen = _visible(request, key)
    require_add(request.user, screen)
    return _form_view(request, screen, None)


def setup_edit(request, key, pk):
    screen = _visible(request, key)
    require_change(request.user, screen)
    return _form_view(request, screen, get_object_or_404(screen.model, pk=pk))


def setup_delete(request, key, pk):
    screen = _visible(request, key)
    row = get_object_or_404(screen.model, pk=pk)
    require_delete(request.user, screen)
    if request.method == "POST":
        label = screen.row_label(row)
        try:
            reference_delete(screen=screen, by=request.user, instance=row)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("setup:edit", key=screen.key, pk=pk)
        messages.success(request, capfirst(_("%(what)s “%(row)s” deleted.")
                                           % {"what": screen.noun, "row": label}))
        return redirect("setup:list", key=screen.key)
    return render(request, "crm/setup/delete.html", {"screen": screen, "row": row})
