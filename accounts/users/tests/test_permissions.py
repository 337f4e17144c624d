"""accounts/users/permissions.py: IsOwnerOrAdmin denies by default. An action is let through only when
it says where its user comes from (URL, body, or the caller), and a view that forgets its own
owner check cannot act on somebody else's account."""
import pytest
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from accounts.users.permissions import IsOwnerOrAdmin
from accounts.users.serializers import UserIdInput


class ActInput(UserIdInput):
    note = serializers.CharField(max_length=10)


class CarelessViewSet(viewsets.GenericViewSet):
    """Handlers that act without any check of their own, as a forgetful view would."""

    permission_classes = [IsAuthenticated, IsOwnerOrAdmin]
    serializer_class = ActInput
    body_user_actions = ("act_on_body_user",)
    caller_actions = ("act_on_caller",)

    @action(detail=False, methods=["post"])
    def act_on_body_user(self, request):
        return Response({"acted_on": request.data["user_id"]})

    @action(detail=False, methods=["post"])
    def act_undeclared(self, request):
        return Response({"acted_on": request.data.get("user_id")})

    @action(detail=False, methods=["get"])
    def act_on_caller(self, request):
        return Response({"acted_on": str(request.user.id)})


def call(handler: str, method: str, caller, data=None):
    request = getattr(APIRequestFactory(), method)("/careless", data, format="json")
    force_authenticate(request, user=caller)
    return CarelessViewSet.as_view({method: handler})(request)


def test_an_action_that_does_not_say_where_its_user_comes_from_is_refused(user, admin):
    assert call("act_undeclared", "post", user, {"user_id": str(user.id), "note": "x"}).status_code == 403
    assert call("act_undeclared", "post", admin, {"user_id": str(user.id), "note": "x"}).status_code == 403


def test_a_body_user_action_without_its_own_check_cannot_reach_another_account(user, other, admin):
    assert call("act_on_body_user", "post", other, {"user_id": str(user.id), "note": "x"}).status_code == 403
    assert call("act_on_body_user", "post", user, {"user_id": str(user.id), "note": "x"}).data == {"acted_on": str(user.id)}
    assert call("act_on_body_user", "post", admin, {"user_id": str(user.id), "note": "x"}).status_code == 200


@pytest.mark.parametrize("body", [{"user_id": "USER", "note": "far too long a note"}, {"note": "x"}, {"user_id": ["a"], "note": "x"}])
def test_a_bad_body_is_the_400_of_its_serializer_before_any_403(other, user, body):
    body = {k: str(user.id) if v == "USER" else v for k, v in body.items()}
    r = call("act_on_body_user", "post", other, body)
    assert r.status_code == 400 and set(r.data) <= {"user_id", "note"}


def test_caller_actions_and_options_are_let_through(user):
    assert call("act_on_caller", "get", user).data == {"acted_on": str(user.id)}
    request = APIRequestFactory().options("/careless")
    force_authenticate(request, user=user)
    assert CarelessViewSet.as_view({"post": "act_undeclared"})(request).status_code == 200


@pytest.mark.parametrize(
    "path, body",
    [("/users/link_id", {"linked_id": "taken-over"}), ("/users/add_details", {"address": "1 Elsewhere"})],
)
def test_the_real_body_user_endpoints_refuse_another_users_id(client_for, user, other, path, body):
    r = client_for(other).post(path, {"user_id": str(user.id), **body}, format="json")
    assert r.status_code == 403 and r.json() == {"detail": "You may only act on your own account."}
