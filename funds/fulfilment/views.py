from django.http import HttpResponse


def obligation_list(request):  # placeholder until the screens land
    return HttpResponse("")
