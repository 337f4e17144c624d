from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Every path answers with and without a trailing slash, with no redirect (API.md)."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"
