"""The browser login's routes, included at /api-auth/ by config/urls.py. DRF's templates link to
`rest_framework:login` and `rest_framework:logout` when those names exist."""
from django.urls import re_path

from accounts.browser.views import login_page, logout_page
from accounts.browser.passkeys import passkey_sign_in, passkeys_page

app_name = "rest_framework"
urlpatterns = [
    re_path(r"^login/?$", login_page, name="login"),
    re_path(r"^logout/?$", logout_page, name="logout"),
    re_path(r"^passkey/?$", passkey_sign_in, name="passkey-sign-in"),
    re_path(r"^passkeys/?$", passkeys_page, name="passkeys"),
]
