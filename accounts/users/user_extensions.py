"""How another app adds to the user without `accounts` knowing about it.

- A stored field on `User`, for a fact about the user that the other app keeps up to date so
  that rendering it costs no query (a flag such as "has one"): not here, but declared with
  `User` itself by a module that settings.USER_FIELD_MODULES lists (`user_fields()`; see
  `user_fields_contributed` in accounts/users/documents.py), so the field is part of the class
  from its creation, by MongoEngine's own declaration.
- `user_output_field_add(name, field, after=...)`: a key in the user representation
  (`UserOutput`, every endpoint that renders a user), at a fixed place (a URL derived from
  that flag). Call it from the app's `ready()` or a module imported there.
- `user_copy_add(name, find=..., fix=...)`: a copy of other documents kept on the user (as the
  join's copies of the linked ids and details), so that `manage.py check_integrity` compares
  it with what it copies (`find`: the ids of users whose copy differs or is missing) and, with
  `--fix`, rewrites it from them (`fix`). Call it where the app declares its documents.
Each refuses a name that is taken, so two apps cannot silently overwrite each other.
"""
from collections.abc import Callable

from bson import ObjectId
from rest_framework import serializers

from accounts.users.serializers import UserOutput


def user_output_field_add(name: str, field: serializers.Field, *, after: str) -> None:
    """Render `field` as `name` in every user representation, right after the key `after`."""
    declared = UserOutput._declared_fields
    if name in declared:
        raise ValueError(f"UserOutput already has a field {name!r}.")
    items = list(declared.items())
    items.insert([key for key, _ in items].index(after) + 1, (name, field))
    declared.clear()
    declared.update(items)


# name -> (find, fix): see user_copy_add.
USER_COPIES: dict[str, tuple[Callable[[], list[ObjectId]], Callable[[list[ObjectId]], int]]] = {}


def user_copy_add(name: str, *, find: Callable[[], list[ObjectId]], fix: Callable[[list[ObjectId]], int]) -> None:
    """Register a copy kept on the user for check_integrity: `find()` lists the users whose copy
    differs from its documents (or who have none yet), `fix(ids)` rewrites theirs and returns
    how many it wrote."""
    if name in USER_COPIES:
        raise ValueError(f"A copy named {name!r} is registered already.")
    USER_COPIES[name] = (find, fix)
