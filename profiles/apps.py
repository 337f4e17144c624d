from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"

    def ready(self) -> None:
        # Declaring the documents registers their CASCADE rules on User: the chain delete
        # reaches them from the moment the app is loaded.
        from profiles import documents  # noqa: F401
        from profiles import api_docs  # noqa: F401  (the OpenAPI words of its operations)
