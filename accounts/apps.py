from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts import api_docs, documents, schema  # noqa: F401  (OpenAPI words; CASCADE rules; OpenAPI extension)
        from config import mongo

        mongo.connect()
