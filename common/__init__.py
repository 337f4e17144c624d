"""The API plumbing both apps use: how a route names a user, input validation, the shared
error types and OpenAPI shapes.

Arrows: `profiles` imports `accounts` and `common`; `accounts` imports `common`; `common` may
read the user (`accounts.documents`, `accounts.selectors`, since every route here names one) but
never imports `profiles`. tests/test_import_rules.py keeps these arrows true.
"""
