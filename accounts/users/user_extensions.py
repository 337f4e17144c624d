"""How another app adds to the user without `accounts` knowing about it.

- `user_field_add(name, field)`: a stored field on `User`, for a fact about the user that the
  other app keeps up to date so that rendering it costs no query (a flag such as "has one").
  Call it where the app declares its documents, before any user is loaded.
- `user_output_field_add(name, field, after=...)`: a key in the user representation
  (`UserOutput`, every endpoint that renders a user), at a fixed place (a URL derived from
  that flag). Call it from the app's `ready()` or a module imported there.
Both refuse a name that is taken, so two apps cannot silently overwrite each other.
"""
from mongoengine.base import BaseField
from rest_framework import serializers

from accounts.users.documents import User
from accounts.users.serializers import UserOutput


def user_field_add(name: str, field: BaseField) -> None:
    """Declare `field` on `User` as if it were written in the class (MongoEngine's metaclass
    does the same for the `id` field it adds)."""
    if name in User._fields:
        raise ValueError(f"User already has a field {name!r}.")
    field.name = name
    field.db_field = field.db_field or name
    field.owner_document = User
    User._fields[name] = field
    User._db_field_map[name] = field.db_field
    User._reverse_db_field_map[field.db_field] = name
    User._fields_ordered += (name,)
    setattr(User, name, field)


def user_output_field_add(name: str, field: serializers.Field, *, after: str) -> None:
    """Render `field` as `name` in every user representation, right after the key `after`."""
    declared = UserOutput._declared_fields
    if name in declared:
        raise ValueError(f"UserOutput already has a field {name!r}.")
    items = list(declared.items())
    items.insert([key for key, _ in items].index(after) + 1, (name, field))
    declared.clear()
    declared.update(items)
