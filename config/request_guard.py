"""Requests that Django itself cannot build: a charset that names no text encoding.

`Content-Type: text/plain; charset=rot13` (or base64, zlib, hex...) names a codec Python knows but
cannot decode text with. Django takes it as the request's encoding while building the request and
decodes the query string with it before any middleware runs, raising LookupError: a 500, in HTML
under gunicorn. `install()` makes Django leave such a charset unused (as it already does with an
unknown one), and `CharsetGuardMiddleware`, early in the stack, answers any request whose charset
cannot decode text with a 400 in DRF's shape, logged with the request id, before a view runs.
"""
import codecs
import logging

from django.core.handlers.wsgi import WSGIRequest
from django.http import JsonResponse
from django.utils.http import parse_header_parameters

logger = logging.getLogger(__name__)


def text_charset(charset: str) -> bool:
    """True when Python can decode text in `charset` (utf-8, latin-1, utf-16...)."""
    try:
        return codecs.lookup(charset)._is_text_encoding
    except (LookupError, ValueError, TypeError):
        return False


def install() -> None:
    """Let Django build the request whatever the charset; the middleware then refuses it. Idempotent."""
    original = WSGIRequest._set_content_type_params
    if getattr(original, "charset_guarded", False):
        return

    def _set_content_type_params(self, meta):
        _, params = parse_header_parameters(meta.get("CONTENT_TYPE", ""))
        charset = params.get("charset")
        if charset is not None and not text_charset(charset):
            meta = {**meta, "CONTENT_TYPE": meta.get("CONTENT_TYPE", "").split(";", 1)[0]}
            original(self, meta)
            self.content_params = params
            return
        original(self, meta)

    _set_content_type_params.charset_guarded = True
    WSGIRequest._set_content_type_params = _set_content_type_params


class CharsetGuardMiddleware:
    """400 `{"detail": ...}` for a request whose Content-Type charset cannot decode text."""

    def __init__(self, get_response):
        install()
        self.get_response = get_response

    def __call__(self, request):
        charset = getattr(request, "content_params", {}).get("charset")
        if charset is not None and not text_charset(charset):
            logger.warning("refused a request whose charset is no text encoding")
            return JsonResponse({"detail": "Unsupported charset in Content-Type: use a text encoding such as utf-8."}, status=400)
        return self.get_response(request)
