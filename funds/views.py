# Placeholder views until the fund screens land (owned by the funds-screens work).
from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse("…")


programme_list = programme_detail = application_list = application_create = _todo
application_detail = application_transition = document_add = review_add = _todo
tranche_plan = tranche_pay = clawback = _todo
