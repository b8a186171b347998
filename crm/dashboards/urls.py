from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("overview/", views.leader, name="leader"),
    path("overview/export/", views.leader_export, name="leader-export"),
    path("overview/fulfilment/", views.fulfilment, name="leader-fulfilment"),
    path("monthly-return/", views.monthly_return, name="monthly-return"),
    path("chain/", views.chain, name="chain"),
    path("mine/", views.staff, name="staff"),
    path("parks/", views.parks, name="parks"),
    path("reviews/", views.reviews, name="reviews"),
]
