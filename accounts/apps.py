from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts import documents, schema  # noqa: F401  (CASCADE rules; OpenAPI extension)
        from config import mongo

        mongo.connect()
