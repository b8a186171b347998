"""The roof: the one module that knows every app."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from crm.accounts.views import LoginView, LogoutView
from crm.core import views as core_views

admin.site.site_header = "招商引资管理平台"
admin.site.site_title = "招商引资管理平台"

api_v1 = [
    path("", include("crm.accounts.api")),
    path("", include("crm.org.api")),
    path("", include("leads.api")),
    path("", include("parks.api")),
    path("", include("funds.api")),
    path("", include("funds.fulfilment.api")),
    path("", include("crm.dashboards.api")),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("accounts/", include("crm.accounts.urls")),
    path("i18n/setlang/", core_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("leads/", include("leads.urls")),
    path("parks/", include("parks.urls")),
    path("funds/", include("funds.urls")),
    path("fulfilment/", include("funds.fulfilment.urls")),
    path("dashboards/", include("crm.dashboards.urls")),
    path("inbox/", include("crm.notifications.urls")),
    path("audit/", include("crm.audit.urls")),
    path("setup/", include("crm.core.urls_setup")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Uploaded documents are never served from a public path: each is downloaded through its
    # record's page (project agreement, fund document), which applies that record's access rule.
]

# Error pages in the product's style (crm/core/templates/400.html ... 500.html): Django's own
# handlers render 403.html, 404.html (with the request) and 500.html (with no context); the 400
# needs ours to show the navigation and a BadParameter's reason.
handler400 = "crm.core.views.bad_request"
