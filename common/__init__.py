"""The API plumbing both apps use: how a route names a user (routes), input validation
(validation), the client's address (client_ip), the shared error types and the 503 mapping
(exceptions), and the shared OpenAPI shapes (openapi).

Arrows: `profiles` imports `accounts` and `common`; `accounts` imports `common`; `common` may
read the user (`accounts.users.documents`, `accounts.users.selectors`, since every route here names one) but
never imports `profiles`. tests/test_import_rules.py keeps these arrows true.
"""
