"""Swagger UI and ReDoc, served so that nothing leaves the machine.

The sidecar serves both bundles from /static/; what remained were ReDoc's template (Google
Fonts) and its bundle (a "Redocly" logo fetched from a CDN in the sidebar, with no option to turn
it off). Our ReDoc template loads no font, and both pages carry a Content-Security-Policy that
lets them load from this origin only, so a browser refuses any other request these pages or their
bundles would make, whatever a future sidecar version adds. Swagger UI uses drf-spectacular's
split view, whose settings script is served from this origin too: neither page needs an inline
script.
"""
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

# data: for the images and fonts the bundles inline; blob: for ReDoc's search worker.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class SelfOnly:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CSP
        return response


class SwaggerView(SelfOnly, SpectacularSwaggerSplitView):
    pass


class RedocView(SelfOnly, SpectacularRedocView):
    template_name = "apidocs/redoc.html"
