"""The listing envelope of API.md: `{"total", "page", "per_page", "has_next", "has_previous", "data"}`.

DRF's PageNumberPagination with the counting done by the database: one `count_documents` for
`total`, then one query that reads the page alone (skip and limit on the server). Not Django's
Paginator: given a MongoEngine QuerySet (whose `count()` takes an argument) it falls back to
`len(queryset)`, which loads every matching document to count them. A page past the end costs
the count only. Unlike DRF's default, out-of-range parameters are a 400 rather than silently
clamped, and a page past the end is an empty page, not a 404.
"""
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
        # count_documents with the QuerySet's own filter, never QuerySet.count(): without a filter
        # that asks for the collection's estimated count, which MongoDB may get wrong.
        self.total = queryset._collection.count_documents(queryset._query)
        offset = (self.page_number - 1) * self.per_page
        page = list(queryset.skip(offset).limit(self.per_page)) if offset < self.total else []
        self.has_next = offset + len(page) < self.total
        self.has_previous = self.page_number > 1 and self.total > 0
        return page

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
