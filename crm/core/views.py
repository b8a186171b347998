from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.views.i18n import set_language as django_set_language

from .navigation import nav


def home(request):
    sections = nav.for_user(request.user, request.path)
    return render(request, "crm/home.html", {"sections": sections})


# The language switch is offered on the login page too, before anyone has signed in.
set_language = login_not_required(django_set_language)
