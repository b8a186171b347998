from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import generics, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.core.views_helpers import paginate

from . import selectors, services
from .roles import user_roles


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@method_decorator(never_cache, name="dispatch")
class LogoutView(auth_views.LogoutView):
    pass


def tokens(request):
    """The signed-in user's API tokens, each revocable: a lost laptop's script is cut off here
    without waiting for the token to expire."""
    page, querystring = paginate(request, selectors.token_list(user=request.user))
    return render(request, "accounts/tokens.html", {"page": page, "querystring": querystring,
                                                    "ttl_days": settings.API_TOKEN_TTL_DAYS})


@require_POST
def token_revoke(request, token_key):
    if services.token_revoke(user=request.user, token_key=token_key):
        messages.success(request, _("Token revoked. Clients using it must sign in again."))
    else:
        messages.error(request, _("No such token: it may have expired or been revoked."))
    return redirect("accounts:tokens")


# --- API --------------------------------------------------------------------------------------
class TokenObtainView(APIView):
    """POST username and password, get a new token to send as `Authorization: Token <token>`.
    Every call issues another token (earlier ones keep working until they expire or are
    revoked), valid for settings.API_TOKEN_TTL_DAYS days."""

    permission_classes = [AllowAny]
    authentication_classes = []
    # django-axes counts failures here too: AuthTokenSerializer authenticates with the request.
    serializer_class = AuthTokenSerializer

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses={200: inline_serializer("TokenResponse", {
            "token": serializers.CharField(),
            "expiry": serializers.DateTimeField(),
        })},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.serializer_class(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        instance, token = services.token_issue(user=serializer.validated_data["user"])
        return Response({"token": token,
                         "expiry": serializers.DateTimeField().to_representation(instance.expiry)})


class TokenSerializer(serializers.Serializer):
    token_key = serializers.CharField(
        help_text="The token's first characters: enough to tell it apart, useless to sign in.")
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)
    current = serializers.SerializerMethodField(
        help_text="Whether this request was made with it.")

    def get_current(self, token) -> bool:
        return getattr(self.context["request"].auth, "digest", None) == token.digest


class TokenListView(generics.ListAPIView):
    """The signed-in user's API tokens that still work, newest first."""

    serializer_class = TokenSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return AuthToken.objects.none()
        return selectors.token_list(user=self.request.user)


class TokenRevokeView(APIView):
    """Revoke one of the signed-in user's tokens. Another user's token is a 404, as is an
    unknown one: administrators revoke other users' tokens in the admin."""

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Revoked."),
                                            404: OpenApiResponse(description="No such token.")})
    def delete(self, request, token_key):
        if not services.token_revoke(user=request.user, token_key=token_key):
            raise NotFound(_("No such token: it may have expired or been revoked."))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    roles = serializers.ListField(child=serializers.CharField())


class MeView(APIView):
    """The signed-in user and their roles."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        user = request.user
        data = {
            "id": user.pk,
            "username": user.username,
            "full_name": user.full_name,
            "email": user.email,
            "roles": sorted(user_roles(user)),
        }
        return Response(MeSerializer(data).data)
