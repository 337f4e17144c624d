"""Provider sign-in endpoints (accounts/providers/services.py holds the rules).

| path                                                 | viewset action                  |
|------------------------------------------------------|---------------------------------|
| GET /auth/providers                                  | ProviderViewSet.providers       |
| GET /auth/providers/{provider}/redirect?next=        | ProviderViewSet.redirect        |
| GET /auth/providers/{provider}/callback?code=&state= | ProviderViewSet.callback        |
| POST /auth/providers/{provider}/token                | ProviderViewSet.token           |
| GET /users/{user_id}/identities                      | IdentityViewSet.identities      |
| POST /users/{user_id}/identities/{provider}          | IdentityViewSet.identity_link   |
| DELETE /users/{user_id}/identities/{identity_id}     | IdentityViewSet.identity_delete |

The two identity routes share a shape; DRF's router tries actions in the order of their names, so
`identity_delete` (24 hex digits) comes before `identity_link` (a provider id, which may not be
24 hex digits: registry.py refuses such an id).
"""
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.sessions.cookie import access_cookie_set
from accounts.openapi import EmailNotVerifiedOutput
from accounts.users.permissions import IsOwner, IsOwnerOrAdmin, owner_only
from accounts.providers import authorization, selectors, services
from accounts.providers.registry import provider_get, providers
from accounts.providers.serializers import CallbackQuery, CodeInput, IdentityOutput, ProviderOutput, RedirectQuery, identity_output
from accounts.users.serializers import LoginOutput, MfaRequiredOutput
from accounts.users.serializers import login_body
from common.public import PublicMixin
from common.client_ip import ScopedClientThrottle, client_ip, user_agent
from common.openapi import ERRORS, Detail, ValidationErrors
from common.routes import UserRouteMixin
from common.validation import validated

PROVIDER_ID = r"[A-Za-z0-9_-]{1,64}"
IDENTITY_ID = r"[0-9a-fA-F]{24}"
# The cookie that binds a redirect to the browser that started it (authorization.authorization_claim).
BROWSER_COOKIE = "oidc_flow"
OWNER_ONLY = "Only the account's owner may connect a provider to it."

LoginResult = PolymorphicProxySerializer("ProviderLoginResult", [LoginOutput, MfaRequiredOutput], None)


def _callback_uri(request, provider_id: str) -> str:
    base = settings.OIDC_REDIRECT_BASE_URL.rstrip("/") if settings.OIDC_REDIRECT_BASE_URL else request.build_absolute_uri("/").rstrip("/")
    return f"{base}/auth/providers/{provider_id}/callback"


def _same_site(next_url: str) -> bool:
    return next_url.startswith("/") and not next_url.startswith("//")


def _redirect_with_fragment(next_url: str, fragment: dict) -> HttpResponseRedirect:
    response = HttpResponseRedirect(f"{next_url.split('#', 1)[0]}#{urlencode(fragment)}")
    response.delete_cookie(BROWSER_COOKIE, path="/auth/providers/", samesite="Lax")
    response["Cache-Control"] = "no-store"
    return response


def _error_fragment(exc: APIException) -> dict:
    code = getattr(exc, "extra", {}).get("code") or exc.default_code
    detail = exc.detail
    while isinstance(detail, (dict, list)):
        detail = next(iter(detail.values() if isinstance(detail, dict) else detail), "")
    return {"error": str(code), "error_description": str(detail)}


class ProviderViewSet(PublicMixin, viewsets.GenericViewSet):
    """Sign-in through an OpenID Connect provider: in a browser by a redirect, or headless."""

    throttle_classes = [ScopedClientThrottle]
    throttle_scope = "login"

    def get_throttles(self):
        # The list of providers is static; only the steps that reach a provider count.
        return [] if self.action == "providers" else super().get_throttles()

    def get_serializer_class(self):
        # What OPTIONS (DRF's metadata) and the browsable API describe for each action.
        return CodeInput if self.action == "token" else ProviderOutput

    @extend_schema(responses={200: ProviderOutput(many=True)}, auth=[])
    @action(detail=False, methods=["get"], url_path="auth/providers")
    def providers(self, request):
        return Response(ProviderOutput([{"id": p.id, "name": p.name} for p in providers()], many=True).data)

    @extend_schema(
        parameters=[RedirectQuery],
        responses={302: None, 400: ValidationErrors, 404: Detail, 429: Detail, 502: Detail},
        auth=[],
    )
    @action(detail=False, methods=["get"], url_path=rf"auth/providers/(?P<provider>{PROVIDER_ID})/redirect")
    def redirect(self, request, provider: str):
        query = validated(RedirectQuery, request.query_params)
        found = provider_get(provider)
        next_url = authorization.next_url_check(query.get("next"))
        url, browser = authorization.authorization_start(provider=found, redirect_uri=_callback_uri(request, found.id), next_url=next_url)
        response = HttpResponseRedirect(url)
        response.set_cookie(
            BROWSER_COOKIE,
            browser,
            max_age=authorization.AUTHORIZATION_MINUTES * 60,
            path="/auth/providers/",
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",  # sent on the provider's top-level redirect back to the callback
        )
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        parameters=[CallbackQuery],
        responses={
            302: None,
            400: ValidationErrors,
            404: Detail,
            429: Detail,
        },
        auth=[],
    )
    @action(detail=False, methods=["get"], url_path=rf"auth/providers/(?P<provider>{PROVIDER_ID})/callback")
    def callback(self, request, provider: str):
        query = validated(CallbackQuery, request.query_params)
        found = provider_get(provider)
        pending = authorization.authorization_claim(provider=found, state=query.get("state", ""), browser=request.COOKIES.get(BROWSER_COOKIE, ""))
        if query.get("error") or not query.get("code"):
            # The person declined at the provider, or the provider failed: say so to `next`.
            return _redirect_with_fragment(
                pending.next_url, {"error": (query.get("error") or "invalid_request")[:64], "error_description": "The provider did not authorize the sign-in."}
            )
        try:
            claims = authorization.claims_from_code(
                provider=found, code=query["code"], code_verifier=pending.code_verifier, redirect_uri=pending.redirect_uri, nonce=pending.nonce
            )
            outcome = services.provider_sign_in(provider=found, claims=claims, ip=client_ip(request), user_agent=user_agent(request))
        except APIException as exc:
            return _redirect_with_fragment(pending.next_url, _error_fragment(exc))
        body = login_body(outcome)
        body.pop("message", None)
        flat = {k: str(v).lower() if isinstance(v, bool) else ",".join(v) if isinstance(v, list) else v for k, v in body.items()}
        response = _redirect_with_fragment(pending.next_url, flat)
        if outcome.refresh is not None and _same_site(pending.next_url):
            # Back on this site (the browsable API): signed in there too, as the browser login does.
            access_cookie_set(response, body["access"])
        return response

    @extend_schema(
        request=CodeInput,
        responses={200: LoginResult, 400: ValidationErrors, 401: Detail, 403: EmailNotVerifiedOutput, 404: Detail, 409: Detail, 429: Detail, 502: Detail},
        auth=[],
    )
    @action(detail=False, methods=["post"], url_path=rf"auth/providers/(?P<provider>{PROVIDER_ID})/token")
    def token(self, request, provider: str):
        data = validated(CodeInput, request.data)
        found = provider_get(provider)
        claims = authorization.claims_from_code(
            provider=found, code=data["code"], code_verifier=data["code_verifier"], redirect_uri=data["redirect_uri"], nonce=data.get("nonce")
        )
        outcome = services.provider_sign_in(provider=found, claims=claims, ip=client_ip(request), user_agent=user_agent(request))
        return Response(login_body(outcome))


class IdentityViewSet(UserRouteMixin, viewsets.GenericViewSet):
    """The identities linked to an account: listed and disconnected by the owner or an admin,
    connected by the owner only (whoever connects must be the person at the provider)."""

    permission_classes = [IsAuthenticated, IsOwnerOrAdmin]
    serializer_class = IdentityOutput
    throttle_scope = "login"
    # Not even an admin: whoever connects must be the person at the provider (decided before the body is read).
    owner_actions = {"identity_link": OWNER_ONLY}

    def get_permissions(self):
        return [IsAuthenticated(), IsOwner()] if owner_only(self) else super().get_permissions()

    def get_serializer_class(self):
        return CodeInput if self.action == "identity_link" else IdentityOutput

    def get_throttles(self):
        # Connecting reaches the provider: counted as a login attempt is.
        return [ScopedClientThrottle()] if self.action == "identity_link" else super().get_throttles()

    def get_queryset(self):
        return []  # the identities come from the selector (see SessionViewSet.get_queryset)

    @extend_schema(responses={200: IdentityOutput(many=True), 401: Detail, 403: Detail, 404: Detail})
    @action(detail=True, methods=["get"], url_path="identities")
    def identities(self, request, user_id: str):
        user = self.get_object()
        return Response(IdentityOutput([identity_output(i) for i in selectors.identities_of(user=user)], many=True).data)

    @extend_schema(
        methods=["DELETE"],
        request=None,
        responses={204: None, 401: Detail, 403: Detail, 404: Detail, 405: Detail, 409: Detail},
        parameters=[OpenApiParameter("identity_id", str, OpenApiParameter.PATH, pattern="^[0-9a-fA-F]{24}$")],
    )
    @action(detail=True, methods=["delete"], url_path=rf"identities/(?P<identity_id>{IDENTITY_ID})")
    def identity_delete(self, request, user_id: str, identity_id: str):
        user = self.get_object()
        services.identity_disconnect(user=user, identity_id=identity_id.lower(), actor=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=CodeInput,
        responses={201: IdentityOutput, 200: IdentityOutput, **ERRORS, 405: Detail, 409: Detail, 429: Detail, 502: Detail},
        parameters=[OpenApiParameter("provider", str, OpenApiParameter.PATH, pattern=f"^{PROVIDER_ID}$")],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=rf"identities/(?P<provider>{PROVIDER_ID})",
    )
    def identity_link(self, request, user_id: str, provider: str):
        user = self.get_object()
        data = validated(CodeInput, request.data)
        found = provider_get(provider)
        claims = authorization.claims_from_code(
            provider=found, code=data["code"], code_verifier=data["code_verifier"], redirect_uri=data["redirect_uri"], nonce=data.get("nonce")
        )
        identity, created = services.identity_connect(user=user, provider=found, claims=claims, ip=client_ip(request))
        return Response(IdentityOutput(identity_output(identity)).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
