from django.urls import include, path

from . import views

app_name = "fulfilment"

urlpatterns = [
    path("", views.obligation_list, name="obligation-list"),
    path("export/", views.obligation_export, name="obligation-export"),
    path("agreements/new/", views.agreement_create, name="agreement-create"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement-detail"),
    path("agreements/<int:pk>/edit/", views.agreement_edit, name="agreement-edit"),
    path("agreements/<int:pk>/document/", views.agreement_document, name="agreement-document"),
    path("agreements/<int:pk>/obligations/new/", views.obligation_add, name="obligation-add"),
    path("agreements/<int:pk>/incentives/new/", views.incentive_add, name="incentive-add"),
    path("agreements/<int:pk>/remedies/new/", views.remedy_add, name="remedy-add"),
    path("agreements/<int:pk>/actuals/new/", views.actual_add, name="actual-add"),
    path("agreements/<int:pk>/actuals/<int:actual>/evidence/", views.actual_evidence,
         name="actual-evidence"),
    path("agreements/<int:pk>/acceptance/print/", views.acceptance_print,
         name="acceptance-print"),
    path("agreements/<int:pk>/acceptance/export/", views.acceptance_export,
         name="acceptance-export"),
    path("agreements/<int:pk>/acceptance/confirm/", views.acceptance_confirm,
         name="acceptance-confirm"),
    path("import/", include("funds.fulfilment.urls_import")),
]
