from django.urls import path

from . import views_setup as views

app_name = "setup"

urlpatterns = [
    path("", views.setup_index, name="index"),
    path("<slug:key>/", views.setup_list, name="list"),
    path("<slug:key>/new/", views.setup_create, name="create"),
    path("<slug:key>/<int:pk>/", views.setup_edit, name="edit"),
    path("<slug:key>/<int:pk>/delete/", views.setup_delete, name="delete"),
]
