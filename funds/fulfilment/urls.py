from django.urls import include, path

from . import views

app_name = "fulfilment"

urlpatterns = [
    path("", views.obligation_list, name="obligation-list"),
    path("import/", include("funds.fulfilment.urls_import")),
]
