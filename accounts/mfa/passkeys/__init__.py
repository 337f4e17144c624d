"""Passkeys (WebAuthn): sign in without a password, and a second factor beside TOTP.

documents.py (Passkey, WebAuthnChallenge), challenges.py (the single-use challenge store),
services.py (the ceremonies and the rules), selectors.py (reads), serializers.py, views.py,
api_docs.py (the OpenAPI words), tests/ (with a software authenticator, tests/authenticator.py).
"""
