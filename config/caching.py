"""No cache keeps an answer of the API unless its view says otherwise (OWASP ASVS 14.3.2).

Logins, refreshes, the second step of a login, TOTP enrolment (the secret), recovery codes,
exports, and everything else read about a person are answered with `Cache-Control: no-store`, so
neither a browser's cache nor a shared proxy keeps a token or a secret. Deny by default: a view
that adds an endpoint carrying secrets (a webhook's signing secret, a provider's tokens) is
covered without a line of its own. A response that sets its own Cache-Control keeps it: the
avatar (`private, no-cache` with an ETag, revalidated every time), the static files.
"""
from django.utils.cache import patch_cache_control


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True)
        return response
