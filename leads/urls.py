from django.urls import include, path

from . import views, views_lookup

app_name = "leads"

urlpatterns = [
    path("companies/", views.company_list, name="company-list"),
    path("companies/new/", views.company_create, name="company-create"),
    path("companies/export/", views.company_export, name="company-export"),
    path("companies/<int:pk>/", views.company_detail, name="company-detail"),
    path("companies/<int:pk>/edit/", views.company_edit, name="company-edit"),
    path("companies/<int:pk>/contacts/new/", views.contact_add, name="contact-add"),
    path("companies/<int:pk>/qualifications/new/", views.qualification_add,
         name="qualification-add"),
    path("projects/", views.project_list, name="project-list"),
    path("projects/export/", views.project_export, name="project-export"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/board/", views.project_board, name="project-board"),
    path("projects/board/<slug:stage>/more/", views.project_board_more, name="project-board-more"),
    path("projects/<int:pk>/", views.project_detail, name="project-detail"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project-edit"),
    path("projects/<int:pk>/agreement/", views.project_agreement, name="project-agreement"),
    path("projects/<int:pk>/move/", views.project_move, name="project-move"),
    path("projects/<int:pk>/team/", views.project_team, name="project-team"),
    path("projects/<int:pk>/followups/new/", views.followup_create, name="followup-create"),
    path("import/", include("leads.urls_import")),
    # The search selects of the company and project choices (crm/core/widgets.py).
    path("lookup/companies/", views_lookup.company_lookup, name="lookup-companies"),
    path("lookup/projects/", views_lookup.project_lookup, name="lookup-projects"),
]
