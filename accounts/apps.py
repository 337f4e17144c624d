from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        """Import every capability's documents (their CASCADE rules are what the chain delete,
        the export and the integrity check walk), its OpenAPI words, and the OpenAPI extensions.
        A new capability adds its own line."""
        from accounts import openapi  # noqa: F401  (OpenAPI extensions)
        from accounts.admin import api_docs, documents  # noqa: F401, F811
        from accounts.emails import api_docs, documents  # noqa: F401, F811
        from accounts.mfa import api_docs, documents  # noqa: F401, F811
        # Passkeys: their documents (and User.passkeys_count), `passkeys_count` in the user
        # representation (serializers), their OpenAPI words.
        from accounts.mfa.passkeys import api_docs, documents, serializers  # noqa: F401, F811
        from accounts.sessions import api_docs, documents  # noqa: F401, F811
        from accounts.user_data import documents  # noqa: F401, F811
        from accounts.users import api_docs, documents  # noqa: F401, F811
        from accounts.events import api_docs, documents  # noqa: F401, F811
        # The owner guard of every write that hangs data off a user (MongoEngine's post_save).
        from accounts.users import guard  # noqa: F401
        from accounts.users import hashers, linked_ids  # noqa: F401  (the Argon2 parameters' system check; the linked ids' copy for check_integrity)
        from accounts.providers import api_docs, documents  # noqa: F401, F811
        from accounts.sessions.keys import token_backend_install
        from config import mongo

        mongo.connect()
        token_backend_install()
