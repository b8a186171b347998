"""Import pages, included by leads/urls.py under "import/" in the "leads" namespace."""

from django.urls import path

from . import views_import as views

urlpatterns = [
    path("", views.import_start, name="import-start"),
    path("<int:pk>/", views.import_detail, name="import-detail"),
    path("<int:pk>/progress/", views.import_progress, name="import-progress"),
    path("<int:pk>/commit/", views.import_commit, name="import-commit"),
    path("template/<str:kind>/", views.import_template, name="import-template"),
]
