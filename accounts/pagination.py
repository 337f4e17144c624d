"""The listing envelope of API.md: `{"total", "page", "per_page", "has_next", "has_previous", "data"}`.

DRF's PageNumberPagination over Django's Paginator (which works on any sliceable with a
`count()`, as a MongoEngine QuerySet is). Unlike DRF's default, out-of-range parameters are a
400 rather than silently clamped, and a page past the end is an empty page, not a 404.
"""
from django.core.paginator import EmptyPage, Paginator
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class PageQuery(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=10**6, default=1)
    per_page = serializers.IntegerField(min_value=1, max_value=30, default=10)


class EnvelopePagination(PageNumberPagination):
    """`page` and `per_page`, with their limits, are PageQuery's."""

    def paginate_queryset(self, queryset, request, view=None):
        params = PageQuery(data=request.query_params)
        params.is_valid(raise_exception=True)
        self.page_number = params.validated_data["page"]
        self.per_page = params.validated_data["per_page"]
        paginator = Paginator(queryset, self.per_page)
        self.total = paginator.count
        try:
            page = paginator.page(self.page_number)
        except EmptyPage:
            self.has_next, self.has_previous = False, self.page_number > 1 and self.total > 0
            return []
        self.has_next, self.has_previous = page.has_next(), page.has_previous()
        return list(page.object_list)

    def get_paginated_response(self, data):
        return Response(
            {
                "total": self.total,
                "page": self.page_number,
                "per_page": self.per_page,
                "has_next": self.has_next,
                "has_previous": self.has_previous,
                "data": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["total", "page", "per_page", "has_next", "has_previous", "data"],
            "properties": {
                "total": {"type": "integer"},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "has_next": {"type": "boolean"},
                "has_previous": {"type": "boolean"},
                "data": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "default": 1}},
            {"name": "per_page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 30, "default": 10}},
        ]
