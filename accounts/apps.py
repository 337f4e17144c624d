from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts import api_docs, api_docs_sessions, documents, email_api_docs, openapi  # noqa: F401  (OpenAPI words; CASCADE rules; OpenAPI extensions)
        from accounts.mfa.passkeys import api_docs as passkey_api_docs, documents as passkey_documents, serializers as passkey_serializers  # noqa: F401
        from config import mongo

        mongo.connect()
