from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profiles"

    def ready(self) -> None:
        # Declaring the documents registers their CASCADE rules on User (the chain delete, the
        # export and the orphan check reach them from the moment the app is loaded); the
        # serializers add `avatar_url` to the user representation. (`User.has_avatar` is declared
        # with User itself: profiles/user_fields.py, settings.USER_FIELD_MODULES.)
        from profiles import api_docs, documents, serializers, services  # noqa: F401  (api_docs: the OpenAPI words of its operations; services: the details copy's integrity check)
