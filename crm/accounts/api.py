from django.urls import path

from .views import MeView, TokenListView, TokenObtainView, TokenRevokeView

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("auth/tokens/", TokenListView.as_view(), name="api-token-list"),
    path("auth/tokens/<str:token_key>/", TokenRevokeView.as_view(), name="api-token-revoke"),
    path("me/", MeView.as_view(), name="api-me"),
]
