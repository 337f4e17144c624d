from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts import api_docs, api_docs_sessions, documents, email_api_docs, openapi  # noqa: F401  (OpenAPI words; CASCADE rules; OpenAPI extensions)
        from accounts import hashers  # noqa: F401  (the Argon2 parameters' system check)
        from config import mongo

        mongo.connect()
