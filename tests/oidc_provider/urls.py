from django.urls import include, path

from tests.oidc_provider import views

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("login/", views.login_view),
    path("test/users", views.users_view),
    path("test/clients", views.clients_view),
    path("test/misbehave", views.misbehave_view),
]
