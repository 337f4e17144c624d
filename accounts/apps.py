from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts import documents, openapi  # noqa: F401  (CASCADE rules; OpenAPI extensions)
        from config import mongo

        mongo.connect()
