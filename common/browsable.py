"""DRF's browsable API as a person meets it: pages named and described in the words the OpenAPI
schema uses (never a class's docstring), and a form where DRF would show "405 Method Not Allowed".

- `view_name` and `view_description` (REST_FRAMEWORK's VIEW_NAME_FUNCTION and
  VIEW_DESCRIPTION_FUNCTION): the summary and description given by `common.openapi.documented`
  for the action and method at hand; nothing rather than an internal docstring.
- `ServiceBrowsableAPIRenderer`: a GET on a path that only takes POST, PUT or DELETE (register,
  link an id, add details, restore ...) is, for a browser, a page with that method's form, in
  200 rather than a 405 error box. JSON clients are not concerned: they never get this renderer.
  The look is config/templates/rest_framework/api.html (the service's name, a Register link, a
  reason field for DELETE).
- HTML forms (`HTML_FORMS`): the pages a newcomer meets without a tool (register, and the pages
  the mails' links open) show DRF's form with one field per input rather than a JSON box; the
  page's script (config/static/browsable/json-forms.js) posts it as JSON, the one body the API
  takes. A link's `?token=` fills the form's token field.
- `PAGE_METHOD`: a page whose GET is a download (the avatar) is named for the form it shows.
"""
import contextlib

from rest_framework import status
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.utils import formatting
from rest_framework.views import get_view_name as drf_view_name

SERVICE_NAME = "User service"
# The methods whose form a page shows when GET is not allowed there, in this order of preference.
FORM_METHODS = ("post", "put", "patch", "delete")
# Actions whose page shows an HTML form (every field a string), with the query parameters that
# fill a field of the same name (the token in a mail's link).
HTML_FORMS = {"register": (), "verify": ("token",), "password_reset": (), "password_reset_confirm": ("token",)}
# Actions whose browsable page is about another method's form than GET's.
PAGE_METHOD = {"avatar": "PUT"}


def _words(view, method: str | None = None) -> tuple[str, str] | None:
    action = getattr(view, "action", None)
    handler = getattr(view, action, None) if action else None
    if handler is None and getattr(view, "request", None) is not None:
        handler = getattr(view, view.request.method.lower(), None)
    words = getattr(handler, "api_words", None) or getattr(view, "api_words", None) or {}
    request = getattr(view, "request", None)
    method = method or (request.method.upper() if request is not None else "*")
    return words.get(method) or words.get("*") or (next(iter(words.values())) if words else None)


def view_name(view) -> str:
    words = _words(view)
    return words[0] if words else drf_view_name(view)


def view_description(view, html: bool = False) -> str:
    words = _words(view)
    text = words[1] if words else ""
    return formatting.markup_description(text) if html else text


class ServiceBrowsableAPIRenderer(BrowsableAPIRenderer):
    def get_context(self, data, accepted_media_type, renderer_context):
        request, response, view = renderer_context["request"], renderer_context["response"], renderer_context["view"]
        action_map = getattr(view, "action_map", None) or {}
        if response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED and request.method == "GET" and action_map:
            method = next((m for m in FORM_METHODS if m in action_map), None)
            if method is not None:
                # The page is about what can be done here: that action's form, name and words.
                view.action = action_map[method]
                response.status_code = status.HTTP_200_OK
                data = {"detail": f"Use the {method.upper()} form below; GET reads nothing here."}
        context = super().get_context(data, accepted_media_type, renderer_context)
        page_method = PAGE_METHOD.get(getattr(view, "action", None))
        if page_method and request.method == "GET":
            words = _words(view, page_method)
            if words:
                context["name"], context["description"] = words[0], formatting.markup_description(words[1])
        context["json_forms"] = getattr(view, "action", None) in HTML_FORMS
        context["service_name"] = SERVICE_NAME
        # The DELETE dialog names what DELETE does here, not the page (GET) it is on.
        context["delete_summary"] = self._summary_of(view, "delete")
        return context

    @staticmethod
    def _summary_of(view, method: str) -> str:
        action = (getattr(view, "action_map", None) or {}).get(method)
        words = getattr(getattr(view, action, None), "api_words", {}) if action else {}
        entry = words.get(method.upper()) or words.get("*")
        return entry[0] if entry else ""

    def get_rendered_html_form(self, data, view, method, request):
        if getattr(view, "action", None) not in HTML_FORMS:
            return super().get_rendered_html_form(data, view, method, request)
        # DRF draws field-by-field forms only for views that parse form bodies; this one parses
        # JSON, which the page's script sends (json-forms.js).
        from rest_framework.parsers import FormParser

        view.parser_classes = [*type(view).parser_classes, FormParser]
        try:
            with _prefilled(view, request):
                return super().get_rendered_html_form(data, view, method, request)
        finally:
            del view.parser_classes

    def get_raw_data_form(self, data, view, method, request):
        with _prefilled(view, request):
            return super().get_raw_data_form(data, view, method, request)


@contextlib.contextmanager
def _prefilled(view, request):
    """The empty serializer a form is drawn from, with the fields `HTML_FORMS` names filled from
    the query string (escaped by the templates like any value)."""
    names = HTML_FORMS.get(getattr(view, "action", None), ())
    values = {name: request.query_params[name] for name in names if name in request.query_params}
    if not values or not hasattr(view, "get_serializer"):
        yield
        return
    original = view.get_serializer

    def get_serializer(*args, **kwargs):
        serializer = original(*args, **kwargs)
        if not args and "data" not in kwargs and "instance" not in kwargs:
            for name, value in values.items():
                if name in serializer.fields:
                    serializer.fields[name].initial = value[:1000]
        return serializer

    view.get_serializer = get_serializer
    try:
        yield
    finally:
        del view.get_serializer
