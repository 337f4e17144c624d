"""Every path of API.md. Find an endpoint's code: README "Where each path's rule lives" maps
every path to its view and rule (tests/test_docs_complete.py keeps it complete)."""
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView

from accounts.events.views import DeletionViewSet, WebhookViewSet
from accounts.providers.views import IdentityViewSet, ProviderViewSet
from accounts.emails.views import EmailResendViewSet, EmailTokenViewSet
from accounts.users.public_views import AuthViewSet, RegisterViewSet
from accounts.sessions.views import SessionViewSet
from accounts.admin.views import TrashViewSet
from accounts.mfa.passkeys.views import PasskeyLoginViewSet, PasskeyViewSet
from accounts.mfa.views import MfaLoginViewSet, TwoFactorViewSet
from accounts.users.views import UserViewSet
from accounts.sessions.wellknown import discovery_view, jwks_view
from config.docs import RedocView, SwaggerView
from config.health import health, ready
from config.metrics import metrics
from config.root import Root
from config.routers import OptionalSlashRouter
from profiles.views import ProfileViewSet

router = OptionalSlashRouter()
router.register("users", RegisterViewSet, basename="register")
router.register("users", ProfileViewSet, basename="profile")
router.register("users", UserViewSet, basename="user")
router.register("users", SessionViewSet, basename="session")
router.register("users", TwoFactorViewSet, basename="two-factor")
router.register("users", IdentityViewSet, basename="identity")
router.register("users", PasskeyViewSet, basename="passkey")
router.register("trash", TrashViewSet, basename="trash")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("deletions", DeletionViewSet, basename="deletion")
router.register("", AuthViewSet, basename="auth")
router.register("", MfaLoginViewSet, basename="mfa-login")
router.register("", PasskeyLoginViewSet, basename="passkey-login")
router.register("", EmailTokenViewSet, basename="email-token")
router.register("", EmailResendViewSet, basename="email-resend")
router.register("", ProviderViewSet, basename="provider")

urlpatterns = [
    re_path(r"^$", Root.as_view(), name="root"),
    re_path(r"^health/?$", health, name="health"),
    re_path(r"^metrics/?$", metrics, name="metrics"),
    re_path(r"^\.well-known/jwks\.json/?$", jwks_view, name="jwks"),
    re_path(r"^\.well-known/openid-configuration/?$", discovery_view, name="openid-configuration"),
    re_path(r"^ready/?$", ready, name="ready"),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^api/docs/?$", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    re_path(r"^api/redoc/?$", RedocView.as_view(url_name="schema"), name="redoc"),
    # The browser login (its namespace, `rest_framework`, makes the browsable API link to it).
    path("api-auth/", include("accounts.browser.urls")),
    re_path(r"^", include(router.urls)),
]


@csrf_exempt  # a POST to an unknown path is a JSON 404, not Django's CSRF page
def not_found(request, exception=None):
    """Unknown paths answer in DRF's error shape, in DEBUG too (where handler404 is bypassed)."""
    return JsonResponse({"detail": "Not found."}, status=404)


def bad_request(request, exception=None):
    return JsonResponse({"detail": "Bad request."}, status=400)


def server_error(request):
    return JsonResponse({"detail": "A server error occurred."}, status=500)


urlpatterns.append(re_path(r"^", not_found, name="not-found"))

handler400 = bad_request
handler404 = not_found
handler500 = server_error
