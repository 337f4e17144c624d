"""Who may act on which user. Deny by default, and checked before any lookup, so a stranger
learns nothing (403 first).

`IsOwnerOrAdmin` lets a request through only when it can tell which user the request acts on:
- the URL names the user (`{user_id}`, or the viewset's `pk`): the caller's own, or an admin;
- the body names the user: the view lists the action in `body_user_actions`; the body is
  validated with the action's serializer (`get_serializer_class()`, a `UserIdInput`), so a bad
  body is the same 400 the view would answer, and its `user_id` must be the caller's own unless
  the caller is an admin. The view needs no check of its own, so it cannot forget one;
- the caller acts on themselves: the view lists the action in `caller_actions` (GET /users/me);
- OPTIONS (DRF's `metadata` action) and a method the viewset has no handler for (405) act on
  nobody.
Anything else is a 403: an action that does not say where its user comes from is refused.

`IsOwner` is for what only the person may do, not even an admin (changing the password, their
two-factor): the view lists such actions in `owner_actions`, with the words of the 403, and
`get_permissions()` gives them `IsOwner`. It too decides before the body is read, so an admin
sending a bad body to such a route gets 403, never a 400 that tells them about the body.
"""
from rest_framework.permissions import BasePermission

OWN_ACCOUNT_ONLY = "You may only act on your own account."


def is_owner_or_admin(caller, user_id: str) -> bool:
    return bool(caller) and (caller.is_admin or str(caller.id) == str(user_id))


class IsAdmin(BasePermission):
    message = "Only an admin may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_admin)


class IsOwnerOrAdmin(BasePermission):
    message = OWN_ACCOUNT_ONLY

    def has_permission(self, request, view) -> bool:
        user_id = view.kwargs.get("user_id") or view.kwargs.get("pk")
        if user_id is not None:
            return is_owner_or_admin(request.user, user_id)
        action = getattr(view, "action", None)
        if action is None and hasattr(view, "action_map"):
            return True  # the viewset has no handler for this method: DRF answers 405, nothing is acted on
        if action in getattr(view, "body_user_actions", ()):
            return self._body_user_allowed(request, view)
        return action in getattr(view, "caller_actions", ()) or action == "metadata"

    @staticmethod
    def _body_user_allowed(request, view) -> bool:
        if not request.data:
            # Nothing names a user (and nothing can be acted on): the view's validation answers.
            return True
        serializer = view.get_serializer_class()(data=request.data)
        serializer.is_valid(raise_exception=True)
        return is_owner_or_admin(request.user, serializer.validated_data["user_id"])


def owner_only(view) -> str | None:
    """The 403's words when the view's action is one only the owner may take, else None. A view
    lists them in `owner_actions`, by action or, when the methods of one action differ, by
    (action, METHOD)."""
    actions = getattr(view, "owner_actions", {})
    action, request = getattr(view, "action", None), getattr(view, "request", None)
    return actions.get((action, request.method if request is not None else None)) or actions.get(action)


class IsOwner(BasePermission):
    """The URL's `{user_id}` is the caller's own. The 403's message is `owner_only(view)`'s."""

    message = "Only the account's owner may do this."

    def has_permission(self, request, view) -> bool:
        user_id = view.kwargs.get("user_id")
        if user_id is not None and request.user and str(request.user.id) == str(user_id):
            return True
        self.message = owner_only(view) or self.message
        return False
