"""Logging in from a browser, for DRF's browsable API.

A browser cannot send `Authorization: Bearer`, so the page at /api-auth/login/ checks the
password with `accounts.users.login.user_login` (the same lock-out, throttling and audit as
POST /login) and keeps the access token in a cookie that page scripts cannot read (HttpOnly),
that other sites' forms and scripts do not carry (SameSite=Lax), and that travels over HTTPS
only unless DEBUG (Secure). No refresh token reaches the browser: the browser session ends with
the access token (ACCESS_TOKEN_MINUTES), after which the browsable API offers "Log in" again,
or at "Log out", which ends the session for the server too. With two-factor on, the form's code
field takes the second factor (the same rules as POST /auth/mfa).

| module   | what it holds                                                         |
|----------|-----------------------------------------------------------------------|
| forms    | the login form                                                        |
| views    | the login and logout pages                                            |
| urls     | their routes, in the `rest_framework` namespace (config/urls.py)      |

The cookie is read by `accounts.sessions.authentication.CookieJWTAuthentication` (CSRF-checked on unsafe
methods), documented by `accounts.openapi.CookieJWTScheme`, and the page shares POST /login's
rate through `accounts.users.throttles.LoginPageThrottle`.
"""
