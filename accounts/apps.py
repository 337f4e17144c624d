from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts import documents  # noqa: F401  (registers the CASCADE rules)
        from config import mongo

        mongo.connect()
