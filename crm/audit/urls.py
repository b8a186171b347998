from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("reads/", views.access_list, name="access-list"),
    path("refused/", views.denied_list, name="denied-list"),
]
