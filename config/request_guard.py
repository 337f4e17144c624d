"""Requests that Django itself cannot build: a charset that names no text encoding, and a body
larger than it will read.

`Content-Type: text/plain; charset=rot13` (or base64, zlib, hex...) names a codec Python knows but
cannot decode text with. Django takes it as the request's encoding while building the request and
decodes the query string with it before any middleware runs, raising LookupError: a 500, in HTML
under gunicorn. `install()` makes Django leave such a charset unused (as it already does with an
unknown one), and `CharsetGuardMiddleware`, early in the stack, answers any request whose charset
cannot decode text with a 400 in DRF's shape, logged with the request id, before a view runs.
"""
import codecs
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.wsgi import WSGIRequest
from django.http import JsonResponse
from django.utils.http import parse_header_parameters

from common.exceptions import body_too_large

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


class BodySizeGuardMiddleware:
    """413 `{"detail": ...}` for a body past DATA_UPLOAD_MAX_MEMORY_SIZE, logged as a warning.

    Django raises RequestDataTooBig when such a body is read: a 400 (with DEBUG, its debug page)
    and a traceback logged at ERROR, for what is the client's mistake (issue 21). Here a declared
    Content-Length past the limit is refused once the URL is resolved, before any view or the CSRF
    check reads the body; a body of undeclared length found too large while read is the same 413
    (`process_exception` for Django views, config/exceptions.py for DRF's). A multipart body sent
    to a DRF view is left to that view: Django does not count files against the limit, and the
    avatar upload checks its own size (profiles/services.py); other DRF views refuse multipart
    with a 415 without reading it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    @staticmethod
    def _refused(length: int | None) -> JsonResponse:
        logger.warning("refused a request body of %s bytes (limit %d): 413", length if length is not None else "more", settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        error = body_too_large()
        return JsonResponse({"detail": str(error.detail)}, status=error.status_code)

    def process_view(self, request, view_func, view_args, view_kwargs):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None:
            return None
        if request.META.get("CONTENT_TYPE", "").startswith("multipart/") and hasattr(view_func, "cls"):
            return None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None  # Django reads no body of an unreadable length
        return self._refused(length) if length > limit else None

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return self._refused(None)
        return None
