"""Djoser on Django's default stack (SQLite, the ORM's User, simplejwt), as its documentation sets
it up, for bench/run.py to measure ours against: `POST /auth/users/` (register), `POST
/auth/jwt/create/` (login), `GET /auth/users/me/`. Django's default hashers (PBKDF2 first).

    DJOSER_DB=/tmp/djoser.sqlite3 bench/.peers-venv/bin/python bench/peers/djoser_manage.py migrate
    bench/.peers-venv/bin/granian --interface wsgi djoser_site.wsgi:application   # from bench/peers

Not part of the service: it runs from bench/.peers-venv (bench/peers-requirements.txt).
"""
import os
from datetime import timedelta

SECRET_KEY = os.environ.get("DJOSER_SECRET_KEY", "bench-only-secret-0123456789-abcdefghijklmnopqrstuvwxyz")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "djoser",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "djoser_site.urls"
WSGI_APPLICATION = "djoser_site.wsgi.application"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJOSER_DB", "/tmp/djoser-bench.sqlite3"),
        # Several server threads write (registrations): wait for the lock rather than fail.
        "OPTIONS": {"timeout": 30},
    }
}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ("rest_framework_simplejwt.authentication.JWTAuthentication",),
    "DEFAULT_RENDERER_CLASSES": ("rest_framework.renderers.JSONRenderer",),
}
SIMPLE_JWT = {"AUTH_HEADER_TYPES": ("Bearer",), "ACCESS_TOKEN_LIFETIME": timedelta(hours=2)}
DJOSER = {}
