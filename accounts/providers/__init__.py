"""Sign-in with OpenID Connect providers (issue 24): the providers from settings, the
authorization code flow with PKCE, state and nonce (Authlib's client), and the identities
(issuer + subject) linked to accounts. See README, "Sign in with an identity provider"."""
