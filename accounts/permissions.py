"""Who may act on which user. Checked before any lookup, so a stranger learns nothing (403 first)."""
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission


def is_owner_or_admin(caller, user_id: str) -> bool:
    return bool(caller) and (caller.is_admin or str(caller.id) == str(user_id))


def check_owner_or_admin(caller, user_id: str) -> None:
    if not is_owner_or_admin(caller, user_id):
        raise PermissionDenied("You may only act on your own account.")


class IsAdmin(BasePermission):
    message = "Only an admin may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_admin)


class IsOwnerOrAdmin(BasePermission):
    """For routes whose URL names the user (`user_id` or the viewset's `pk`)."""

    message = "You may only act on your own account."

    def has_permission(self, request, view) -> bool:
        user_id = view.kwargs.get("user_id") or view.kwargs.get("pk")
        return user_id is None or is_owner_or_admin(request.user, user_id)
