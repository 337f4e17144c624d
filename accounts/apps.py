from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts import api_docs, api_docs_sessions, documents, email_api_docs, openapi  # noqa: F401  (OpenAPI words; CASCADE rules; OpenAPI extensions)
        from accounts.providers import api_docs as provider_api_docs, documents as provider_documents  # noqa: F401
        from config import mongo

        mongo.connect()
