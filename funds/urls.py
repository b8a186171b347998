from django.urls import path

from . import views

app_name = "funds"

urlpatterns = [
    path("programmes/", views.programme_list, name="programme-list"),
    path("programmes/<int:pk>/", views.programme_detail, name="programme-detail"),
    path("applications/", views.application_list, name="application-list"),
    path("applications/new/", views.application_create, name="application-create"),
    path("applications/<int:pk>/", views.application_detail, name="application-detail"),
    path("applications/<int:pk>/transition/", views.application_transition,
         name="application-transition"),
    path("applications/<int:pk>/documents/", views.document_add, name="document-add"),
    path("applications/<int:pk>/documents/<int:document>/", views.document_download,
         name="document-download"),
    path("applications/<int:pk>/review/", views.review_add, name="review-add"),
    path("applications/<int:pk>/tranches/", views.tranche_plan, name="tranche-plan"),
    path("applications/<int:pk>/tranches/<int:tranche>/pay/", views.tranche_pay,
         name="tranche-pay"),
    path("applications/<int:pk>/clawback/", views.clawback, name="clawback"),
    path("applications/<int:pk>/tranches/<int:tranche>/override/", views.tranche_override,
         name="tranche-override"),
    path("applications/<int:pk>/clawback-proposals/<int:proposal>/record/",
         views.clawback_proposal_record, name="clawback-proposal-record"),
    path("applications/<int:pk>/clawback-proposals/<int:proposal>/dismiss/",
         views.clawback_proposal_dismiss, name="clawback-proposal-dismiss"),
]
