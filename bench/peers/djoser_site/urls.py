from django.http import JsonResponse
from django.urls import include, path

urlpatterns = [
    path("auth/", include("djoser.urls")),
    path("auth/", include("djoser.urls.jwt")),
    path("health", lambda request: JsonResponse({"status": "ok"})),
]
