"""A real OpenID Connect provider for the tests: django-oauth-toolkit's OIDC provider on SQLite,
run as its own process on loopback (`python -m tests.oidc_provider`, started by
`tests/oidc_provider/process.py`). It is a separate Django project; nothing of the service is
imported here, and the service talks to it only over HTTP, as to any provider.

Besides the provider's own endpoints (`/o/authorize/`, `/o/token/`, `/o/.well-known/...`) it has
a login form (`/login/`, filled by the tests' HTTP client or by headless Chromium) and, for tests
only, `/test/users`, `/test/clients` and `/test/misbehave` (the tamper tests' switch)."""
