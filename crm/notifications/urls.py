from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read/", views.mark_read, name="mark-all-read"),
    path("<int:pk>/read/", views.mark_read, name="mark-read"),
    path("settings/", views.preferences, name="preferences"),
]
