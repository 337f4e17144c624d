from django.apps import AppConfig


class PasskeysConfig(AppConfig):
    """Passkeys as a Django app of their own (after `accounts` in INSTALLED_APPS): its templates
    and static files are found by Django's app loaders, and its documents are declared when it
    is ready."""

    name = "accounts.mfa.passkeys"
    label = "passkeys"

    def ready(self) -> None:
        # Declaring the documents registers their CASCADE rules on User (chain delete, export and
        # integrity check reach them) and adds `passkeys_count` to User; the serializers add it to
        # the user representation; api_docs holds the OpenAPI words of the operations.
        from accounts.mfa.passkeys import api_docs, documents, serializers  # noqa: F401
