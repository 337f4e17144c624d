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
"""
from rest_framework import status
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.utils import formatting
from rest_framework.views import get_view_name as drf_view_name

SERVICE_NAME = "User service"
# The methods whose form a page shows when GET is not allowed there, in this order of preference.
FORM_METHODS = ("post", "put", "patch", "delete")


def _words(view) -> tuple[str, str] | None:
    action = getattr(view, "action", None)
    handler = getattr(view, action, None) if action else None
    if handler is None and getattr(view, "request", None) is not None:
        handler = getattr(view, view.request.method.lower(), None)
    words = getattr(handler, "api_words", None) or getattr(view, "api_words", None) or {}
    request = getattr(view, "request", None)
    method = request.method.upper() if request is not None else "*"
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
