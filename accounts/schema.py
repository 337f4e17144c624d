"""OpenAPI: documents MongoJWTAuthentication as HTTP bearer (JWT) for drf-spectacular."""
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class MongoJWTScheme(SimpleJWTScheme):
    target_class = "accounts.authentication.MongoJWTAuthentication"
    name = "jwtAuth"
