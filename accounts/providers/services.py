"""Signing in with a provider, and connecting and disconnecting identities.

The protocol steps are in authorization.py (Authlib's client). The rules about accounts are here:

- A person's identity (issuer + subject) names their account. A first sign-in creates an account
  (username by the register rules), unless an account here holds the email: then it is linked to
  that account only if the provider says the email is verified AND the account's email is verified
  here; otherwise 409 `email_taken` (sign in to that account and connect the provider). So an
  attacker who registered a victim's email first, unverified, neither takes over the victim's
  provider sign-in nor is handed it.
- The sign-in ends as a password login does (`provider_sign_in`): the same lock-out (an account or
  address past its limit is refused, 429), the same EMAIL_VERIFICATION rule (403), and the same
  second factor: a user with two-factor on gets the mfa_token answer, not tokens. Decision (as
  allauth does by default, its MFA stage runs after any login): a provider vouches for the person
  at the provider, not for this account's second factor, which the owner turned on here.
- An account created by a provider has no usable password (a person sets one by a password
  reset). Disconnecting the last way to sign in is a 409.
- Events (accounts/events/webhooks.py): `identity.linked` when an identity is linked (a first
  sign-in, joining an account by its verified email, connecting), `identity.unlinked` when one is
  disconnected; each written inside the same `owner_guard` block as the identity's write, so an
  identity undone for a user being deleted takes its event along. A first sign-in that makes an
  account writes `user.created`, `identity.linked` and the verification mail's job in one round
  trip before the account, as a sign-up does (accounts/users/registration.py): a crash before the
  account leaves jobs the outbox cancels, never an account whose event or mail is lost.
"""
from bson import ObjectId
from django.conf import settings
from django.contrib.auth.hashers import is_password_usable, make_password
from mongoengine import NotUniqueError
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed, NotFound, ValidationError

from accounts.emails.email_verification import login_verification_check
from accounts.events.mail_jobs import VERIFY, mail_job
from accounts.events.outbox import outbox_forget, outbox_write
from accounts.events.webhooks import event_data_update, event_emit, event_job, identity_event_data
from accounts.mfa import two_factor
from accounts.providers.documents import ProviderIdentity
from accounts.providers.registry import Provider
from accounts.sessions.tokens import LoginOutcome, login_outcome
from accounts.users import identity as identity_rules
from accounts.users import lockout
from accounts.users.audit import audit_record
from accounts.users.documents import ROLE_USER, User, casefold_key
from accounts.users.guard import owner_guard
from accounts.users.registration import USERNAME_TAKEN, email_stored_form, username_suggestions
from accounts.users.selectors import user_by_email
from accounts.users.serializers import UsernameField
from common.exceptions import Conflict

NO_EMAIL = "The provider did not share an email address; allow the email scope."
EMAIL_TAKEN = (
    "An account here already uses this email. Sign in to that account and connect the provider from there."
)
ACCOUNT_DISABLED = "This account cannot sign in."
HELD_ELSEWHERE = "This identity is connected to another account."
LAST_WAY = "This is the account's last way to sign in. Set a password (by a password reset), add a passkey or connect another provider first."
NOT_FOUND = "No such identity."


class EmailTaken(Conflict):
    """409 `{"detail": ..., "code": "email_taken"}` (API.md)."""

    def __init__(self):
        super().__init__(EMAIL_TAKEN, code="email_taken")
        self.extra = {"code": "email_taken"}  # rendered beside "detail" (config.exceptions)


# ---- accounts and identities -----------------------------------------------------------------


def _username_from(claims: dict) -> str:
    """The first of the provider's names that the register rules accept, else `user`."""
    field = UsernameField()
    email_local = str(claims.get("email") or "").rpartition("@")[0]
    for candidate in (claims.get("preferred_username"), claims.get("name"), email_local):
        if not isinstance(candidate, str):
            continue
        candidate = candidate.strip()[:140]
        try:
            return field.run_validation(candidate)
        except serializers.ValidationError:
            continue
    return "user"


def _account_create(*, user_id: ObjectId, claims: dict, email: str) -> User:
    """A new account for a person new here: username by the register rules (a taken one gets a
    free suggestion, as a 409 of register offers), no usable password, the email as verified as
    the provider says."""
    base = _username_from(claims)
    names, suggested = [base], False
    while names:
        username = names.pop(0)
        user = User(
            id=user_id,
            username=username,
            username_key=casefold_key(username),
            username_skeleton=identity_rules.username_skeleton(username),
            email=email,
            email_key=casefold_key(email),
            password=make_password(None),  # unusable: no password until a reset sets one
            email_verified=claims.get("email_verified") is True,
        )
        try:
            user.save(force_insert=True)
            return user
        except NotUniqueError:
            if User.objects(email_key=user.email_key).only("id").first() is not None:
                raise EmailTaken() from None
            if not suggested:  # the name is taken: its free suggestions, asked for only now
                suggested, names = True, username_suggestions(username=base)
    raise Conflict(USERNAME_TAKEN)


def _identity_insert(*, user_id: ObjectId, provider: Provider, claims: dict) -> ProviderIdentity:
    identity = ProviderIdentity(
        user=user_id,
        provider=provider.id,
        issuer=provider.issuer,
        subject=claims["sub"],
        email=str(claims.get("email") or "")[:254] or None,
        email_verified=claims.get("email_verified") is True,
    )
    identity.save(force_insert=True)  # the unique (issuer, subject) index decides
    return identity


def _user_for_new_identity(*, provider: Provider, claims: dict, ip: str) -> User:
    """The account a first sign-in of this identity goes to (see the module docstring)."""
    raw_email = claims.get("email")
    if not isinstance(raw_email, str) or not raw_email:
        raise ValidationError({"id_token": [NO_EMAIL]})
    email = email_stored_form(raw_email)
    existing = user_by_email(email)
    if existing is not None:
        if not (claims.get("email_verified") is True and existing.email_verified):
            audit_record(action="provider_email_taken", target=existing, ip=ip, provider=provider.id)
            raise EmailTaken()
        try:
            # Under the owner guard: an account being chain-deleted keeps no identity nor event (404).
            with owner_guard(existing.id) as guard:
                identity = _identity_insert(user_id=existing.id, provider=provider, claims=claims)
                event_emit("identity.linked", user_id=existing.id, data=identity_event_data(identity), guard=guard)
                audit_record(action="identity_linked", actor=existing, target=existing, ip=ip, provider=provider.id, by="verified_email")
        except NotUniqueError:
            pass  # a concurrent first sign-in linked it: the identity's account is looked up again
        except NotFound:
            raise AuthenticationFailed(ACCOUNT_DISABLED) from None
        else:
            return existing
        return _user_of_identity(provider=provider, claims=claims)
    # Identity first, under an id chosen now: of two concurrent first sign-ins, one insert wins
    # and only the winner creates the account. A crash between the two writes leaves an identity
    # without its account, which `check_integrity --fix` finds and removes (it is declared).
    # The owner guard (accounts/users/guard.py) proves the new account once, at the end of the
    # block, after it exists: not at the identity's save, which comes first on purpose.
    # Then the jobs (user.created, identity.linked, the verification mail), then the account: the
    # module docstring. Their fan-out and the mail wait until the account exists.
    user_id = ObjectId()
    with owner_guard(user_id) as guard:
        try:
            identity = _identity_insert(user_id=user_id, provider=provider, claims=claims)
        except NotUniqueError:
            return _user_of_identity(provider=provider, claims=claims)
        created = {"username": _username_from(claims), "email": email, "email_verified": claims.get("email_verified") is True, "role": ROLE_USER, "linked_ids": []}
        jobs = [event_job("user.created", user_id=user_id, data=created), event_job("identity.linked", user_id=user_id, data=identity_event_data(identity))]
        if settings.EMAIL_VERIFICATION != "none" and not created["email_verified"]:
            jobs.append(mail_job(VERIFY, user_id=user_id))
        written = outbox_write(jobs, guard=guard)
        try:
            user = _account_create(user_id=user_id, claims=claims, email=email)
        except Exception:
            outbox_forget(written)
            identity.delete()
            raise
        if user.username != created["username"]:  # a taken name: the free suggestion it got
            event_data_update(written[0], username=user.username)
        audit_record(action="register", actor=user, target=user, ip=ip, provider=provider.id)
        return user


def _user_of_identity(*, provider: Provider, claims: dict) -> User:
    found = ProviderIdentity.objects(issuer=provider.issuer, subject=claims["sub"]).only("user").as_pymongo().first()
    user = User.objects(id=found["user"]).first() if found else None
    if user is None:
        # The winner of a race has not created its account yet (or is being deleted).
        raise Conflict("This identity is being linked by another request. Try again.")
    return user


def provider_sign_in(*, provider: Provider, claims: dict, ip: str, user_agent: str = "") -> LoginOutcome:
    """Sign in the person the validated claims name: their account, a linked one, or a new one
    (module docstring); then the password login's rules: disabled or trashed accounts 401, the
    lock-out 429, EMAIL_VERIFICATION 403, the second factor (an mfa_token instead of tokens).
    Audited as `login` with the provider."""
    found = ProviderIdentity.objects(issuer=provider.issuer, subject=claims["sub"]).only("user").as_pymongo().first()
    user = User.objects(id=found["user"]).first() if found else None
    if user is None:
        user = _user_for_new_identity(provider=provider, claims=claims, ip=ip)
    if not user.is_active or user.in_trash or user.deleting:
        audit_record(action="login_failed", target=user, ip=ip, provider=provider.id)
        raise AuthenticationFailed(ACCOUNT_DISABLED)
    # As a password login: the attempt counted before anything else (429 past the limit).
    attempt = lockout.login_attempt_reserve(email_key=user.email_key, ip=ip, user_id=user.id)
    login_verification_check(user=user)
    if user.mfa_enabled:
        lockout.login_attempt_succeeded(attempt, clear=False)
        audit_record(action="login_provider_ok", actor=user, target=user, ip=ip, provider=provider.id, mfa="pending")
        return LoginOutcome(user=user, mfa_token=two_factor.mfa_token_issue(user=user), mfa_methods=two_factor.mfa_methods(user=user))
    lockout.login_attempt_succeeded(attempt)
    audit_record(action="login", actor=user, target=user, ip=ip, provider=provider.id)
    return login_outcome(user, ip=ip, user_agent=user_agent)


def identity_connect(*, user: User, provider: Provider, claims: dict, ip: str) -> tuple[ProviderIdentity, bool]:
    """Link the identity the claims name to `user` (the signed-in owner). Returns (identity,
    created): connecting it again to the same account changes nothing; held by another account,
    409. The email plays no part: the person proved both sides themselves."""
    try:
        # Under the owner guard: a chain delete racing it leaves no identity nor event (404).
        with owner_guard(user.id) as guard:
            identity = _identity_insert(user_id=user.id, provider=provider, claims=claims)
            event_emit("identity.linked", user_id=user.id, data=identity_event_data(identity), guard=guard)
            audit_record(action="identity_linked", actor=user, target=user, ip=ip, provider=provider.id)
    except NotUniqueError:
        held = ProviderIdentity.objects(issuer=provider.issuer, subject=claims["sub"]).first()
        if held is not None and held.user.id == user.id:
            return held, False
        raise Conflict(HELD_ELSEWHERE) from None
    return identity, True


def _has_other_way_in(*, user: User, identity_id) -> bool:
    """A usable password, a passkey (accounts/mfa/passkeys keeps a passwordless account's last
    one) or another identity."""
    if is_password_usable(user.password) or (getattr(user, "passkeys_count", 0) or 0) > 0:
        return True
    return ProviderIdentity.objects(user=user.id, id__ne=identity_id).limit(1).count(with_limit_and_skip=True) > 0


def identity_disconnect(*, user: User, identity_id: str, actor: User, ip: str) -> None:
    """Unlink one of the user's identities (404 if it is not theirs). The last way to sign in
    cannot go (409): with no usable password and no other identity, the identity stays.

    Two concurrent disconnects of a user's last two identities could each see the other one:
    so the check runs again after the delete, and an identity found to have been the last is put
    back, its identity.unlinked event and audit record withdrawn (both requests then answer 409 and both identities
    stay). That second look reads the user only if no chain delete of theirs has begun: it is the
    owner guard's proof for the event (a user being deleted: 404, no event)."""
    if not ObjectId.is_valid(identity_id):
        raise NotFound(NOT_FOUND)
    identity = ProviderIdentity.objects(id=identity_id, user=user.id).first()
    if identity is None:
        raise NotFound(NOT_FOUND)
    if not _has_other_way_in(user=user, identity_id=identity.id):
        raise Conflict(LAST_WAY)
    if ProviderIdentity.objects(id=identity.id).delete() != 1:
        raise NotFound(NOT_FOUND)
    with owner_guard(user.id) as guard:
        event_emit("identity.unlinked", user_id=user.id, data=identity_event_data(identity), guard=guard)
        audit_record(action="identity_unlinked", actor=actor, target=user, ip=ip, provider=identity.provider)
        fresh = User.objects(id=user.id, deleting__ne=True).only("password", "passkeys_count").first()
        guard.proven(fresh is not None)
        if fresh is not None and not _has_other_way_in(user=fresh, identity_id=identity.id):
            guard.undo()  # the event and the audit record: the identity stays after all
            try:
                identity.save(force_insert=True)
            except NotUniqueError:
                pass
            raise Conflict(LAST_WAY)
