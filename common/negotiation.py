"""DRF's content negotiation, with the answer for a request that states no preference computed once.

A request without an Accept header (or with `Accept: */*`), no `?format=` and no format suffix
gets the view's first renderer at that renderer's media type: that is what DRF's
`DefaultContentNegotiation` answers for it (README, "Performance": ~3% of a signed-in read,
measured with bench/profile_join.py). Every other request goes through DRF's negotiation unchanged.
"""
from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if (
            format_suffix is None
            and request.META.get("HTTP_ACCEPT", "*/*") == "*/*"
            and self.settings.URL_FORMAT_OVERRIDE not in request.GET
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
