"""A cap on wrong second-factor codes per account in total, from every address together
(issue 21, item 12).

The lock-out (accounts/users/lockout.py) counts per window: 5 failures per account and address
and 100 per account from all addresses every 5 minutes, about 1,200 second-factor guesses an hour
for someone who has the password and 20 addresses. Against a 6-digit TOTP (three codes accepted at
any moment) that is about one chance in 280 an hour. This cap bounds the total: at most
MFA_FAILURE_LIMIT_PER_DAY second-factor attempts that were not right, per account, in a window of
24 hours that starts at the first of them (no shared boundary to time guesses against). Past it
the second step is a 429 for everybody, the right code included, until the window ends or the
password changes: a password reset (which the attacker, who has only the password, cannot finish)
raises the user's `token_version`, and a window counted under an older one starts again.

The count lives on the user's TOTP device in MongoDB (`TotpDevice.failures`, no collection of its
own, so the chain delete and the export cost nothing more), and every attempt is reserved with one
atomic `$inc` *before* its code is checked, so parallel guesses cannot pass the cap together; a
right code gives its reservation back.
"""
from datetime import timedelta

from django.conf import settings
from pymongo import ReturnDocument
from rest_framework.exceptions import Throttled

from accounts.mfa.documents import TotpDevice
from accounts.users.documents import now

WINDOW = timedelta(hours=24)


def mfa_attempt_reserve(*, user_id, token_version: int) -> dict | None:
    """Count one second-factor attempt of `user_id` (whose password is the one of
    `token_version`) before its code is checked; 429 past the cap. Returns the confirmed device
    (its encrypted secret, for the TOTP check), or None when two-factor is off (no code can be
    right then). Two round trips: a stale window's restart, then the reservation."""
    collection = TotpDevice._get_collection()
    at = now()
    # A window that has ended, or was counted under an older password, starts again (a conditional
    # update: of two racing restarts, one wins).
    stale = {
        "user": user_id,
        "confirmed": True,
        "$or": [{"failures_until": {"$not": {"$gt": at}}}, {"failures_token_version": {"$ne": token_version}}],
    }
    collection.update_one(stale, {"$set": {"failures": 0, "failures_until": at + WINDOW, "failures_token_version": token_version}})
    device = collection.find_one_and_update(
        {"user": user_id, "confirmed": True},
        {"$inc": {"failures": 1}},
        projection={"secret": 1, "failures": 1, "failures_until": 1},
        return_document=ReturnDocument.AFTER,
    )
    if device is not None and device["failures"] > settings.MFA_FAILURE_LIMIT_PER_DAY:
        until = device["failures_until"]
        if until.tzinfo is None:
            until = until.replace(tzinfo=at.tzinfo)
        raise Throttled(wait=max(1, int((until - at).total_seconds())))
    return device


def mfa_attempt_release(*, user_id) -> None:
    """Give back the reservation of an attempt that was right (or was refused before its code
    was checked). One round trip."""
    TotpDevice._get_collection().update_one({"user": user_id, "failures": {"$gt": 0}}, {"$inc": {"failures": -1}})
