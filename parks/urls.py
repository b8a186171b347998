from django.urls import path

from . import views

app_name = "parks"

urlpatterns = [
    path("", views.park_list, name="park-list"),
    path("<int:pk>/", views.park_detail, name="park-detail"),
    path("buildings/<int:pk>/", views.building_detail, name="building-detail"),
    path("units/<int:pk>/", views.unit_detail, name="unit-detail"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit-edit"),
    path("units/<int:pk>/assign/", views.assignment_create, name="assignment-create"),
    path("available/", views.availability, name="availability"),
    path("available/reserve/", views.reserve, name="reserve"),
    path("assignments/<int:pk>/end/", views.assignment_end, name="assignment-end"),
    path("assignments/<int:pk>/release/", views.reservation_release, name="reservation-release"),
    path("assignments/<int:pk>/convert/", views.reservation_convert, name="reservation-convert"),
    path("assignments/<int:pk>/terminate/", views.assignment_terminate,
         name="assignment-terminate"),
    path("occupancy/", views.occupancy, name="occupancy"),
    path("occupancy/export/", views.occupancy_export, name="occupancy-export"),
]
