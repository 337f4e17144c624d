"""The OpenAPI words of the passkey operations (filled in with the views)."""
