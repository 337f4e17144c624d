"""common.negotiation answers exactly as DRF's negotiation does, shortcut or not."""
import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from common.negotiation import ContentNegotiation


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "text/html", "text/html,*/*;q=0.8", "image/png", "*/*;q=0.1"])
@pytest.mark.parametrize("query", ["", "?format=json", "?format=api"])
def test_the_same_renderer_and_media_type_as_drf(accept, query):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(f"/users/me{query}", **headers))
    renderers = [cls() for cls in APIView.renderer_classes]

    def pick(negotiation):
        try:
            renderer, media_type = negotiation.select_renderer(request, renderers)
        except Exception as exc:  # a 404 for an unknown format, a 406 for nothing acceptable
            return type(exc)
        return type(renderer), media_type

    assert pick(ContentNegotiation()) == pick(DefaultContentNegotiation())


def test_it_is_the_configured_negotiation():
    assert APIView.content_negotiation_class is ContentNegotiation
