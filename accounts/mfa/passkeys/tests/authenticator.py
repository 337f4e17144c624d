"""A software WebAuthn authenticator, for the tests and the README's example.

It does what a browser and a passkey do together: takes the options the service sends
(`publicKey`, the WebAuthn Level 3 JSON form), makes or uses an ES256 credential, and returns
the credential in the JSON form the service reads (`RegistrationResponseJSON`,
`AuthenticationResponseJSON`). The CBOR and COSE are `fido2`'s (Yubico's library), the keys and
signatures `cryptography`'s: nothing here encodes by hand.

It can also misbehave on purpose: answer for another origin (`origin=`), leave out user
verification (`user_verified=False`), or be copied (`clone()`, two authenticators holding one
key whose counters then disagree).
"""
import copy
import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2.cose import ES256
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import AttestationObject, AttestedCredentialData, AuthenticatorData, CollectedClientData

FLAGS = AuthenticatorData.FLAG


@dataclass
class Credential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


class SoftAuthenticator:
    """A platform authenticator with discoverable credentials (passkeys), in memory."""

    def __init__(self, origin: str = "http://localhost:8000", *, counter: bool = True):
        self.origin = origin
        self.counter = counter  # False: an authenticator that keeps no counter (always 0)
        self.credentials: dict[bytes, Credential] = {}

    def clone(self) -> "SoftAuthenticator":
        """A copy holding the same keys and counters (a cloned authenticator)."""
        return copy.deepcopy(self)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> CollectedClientData:
        return CollectedClientData.create(type=kind, challenge=websafe_decode(challenge), origin=origin or self.origin)

    def _flags(self, user_verified: bool) -> FLAGS:
        return FLAGS.UP | (FLAGS.UV if user_verified else 0) | FLAGS.BE | FLAGS.BS

    def create(self, public_key: dict, *, origin: str | None = None, user_verified: bool = True, credential_id: bytes | None = None) -> dict:
        """navigator.credentials.create(): a new credential for `public_key` (creation options);
        `credential_id` forces its id (as a misbehaving authenticator might)."""
        rp_id = public_key["rp"]["id"]
        credential_id = credential_id or os.urandom(16)
        private_key = ec.generate_private_key(ec.SECP256R1())
        cred = Credential(credential_id, private_key, rp_id, websafe_decode(public_key["user"]["id"]))
        self.credentials[credential_id] = cred
        client_data = self._client_data("webauthn.create", public_key["challenge"], origin)
        attested = AttestedCredentialData.create(b"\0" * 16, credential_id, ES256.from_cryptography_key(private_key.public_key()))
        auth_data = AuthenticatorData.create(
            hashlib.sha256(rp_id.encode()).digest(), self._flags(user_verified) | FLAGS.AT, cred.sign_count, attested
        )
        attestation = AttestationObject.create("none", auth_data, {})
        return {
            "id": websafe_encode(credential_id),
            "rawId": websafe_encode(credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": websafe_encode(bytes(client_data)),
                "attestationObject": websafe_encode(bytes(attestation)),
                "transports": ["internal"],
            },
        }

    def get(self, public_key: dict, *, origin: str | None = None, user_verified: bool = True, credential_id: bytes | None = None) -> dict:
        """navigator.credentials.get(): an assertion by a credential the options allow (any of
        this authenticator's for the rp id when the allow list is empty: a discoverable login)."""
        rp_id = public_key.get("rpId") or ""
        allowed = [websafe_decode(c["id"]) for c in public_key.get("allowCredentials") or []]
        if credential_id is None:
            candidates = [c for c in self.credentials.values() if c.rp_id == rp_id and (not allowed or c.credential_id in allowed)]
            if not candidates:
                raise LookupError("this authenticator holds no credential the options allow")
            credential_id = candidates[0].credential_id
        cred = self.credentials[credential_id]
        if self.counter:
            cred.sign_count += 1
        client_data = self._client_data("webauthn.get", public_key["challenge"], origin)
        auth_data = AuthenticatorData.create(hashlib.sha256(cred.rp_id.encode()).digest(), self._flags(user_verified), cred.sign_count)
        signature = cred.private_key.sign(bytes(auth_data) + client_data.hash, ec.ECDSA(hashes.SHA256()))
        return {
            "id": websafe_encode(cred.credential_id),
            "rawId": websafe_encode(cred.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": websafe_encode(bytes(client_data)),
                "authenticatorData": websafe_encode(bytes(auth_data)),
                "signature": websafe_encode(signature),
                "userHandle": websafe_encode(cred.user_handle),
            },
        }
