"""The actuals import's pages, included by funds/fulfilment/urls.py under "import/" in the
"fulfilment" namespace. Link the upload page as {% url 'fulfilment:actuals-import' %}, from an
agreement's page with ?agreement=<pk> (the commit then returns to that agreement)."""

from django.urls import path

from . import views_import as views

urlpatterns = [
    path("", views.actuals_import, name="actuals-import"),
    path("template/", views.actuals_import_template, name="actuals-import-template"),
    path("<slug:token>/", views.actuals_import_check, name="actuals-import-check"),
    path("<slug:token>/commit/", views.actuals_import_commit, name="actuals-import-commit"),
]
