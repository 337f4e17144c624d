"""The caller's stored document, read once by authentication (`selectors.user_for_token`), handed
to a selector that renders the caller from what is stored on it (the user-with-details join reads
the copies of the linked ids and details the user document carries: no other read). This module
owns both ends of that hand-off, so no other code sets or reads the attribute it travels in (the
request's `Caller`, caller.py, answers it from the document it wraps, without building a `User`)."""
from bson import ObjectId

_ATTRIBUTE = "son"  # where the document travels on the request's `User` (issue 26 named it)


def caller_document_keep(user, document: dict) -> None:
    """Keep `document`, the caller's as stored (raw, as MongoDB holds it), with `user`."""
    setattr(user, _ATTRIBUTE, document)


def caller_document(caller, user_id: str) -> dict | None:
    """The stored document authentication read for `caller`, when the request reads `user_id`
    and that is the caller; else None (the selector reads for itself)."""
    document = getattr(caller, _ATTRIBUTE, None)
    if document is None or not ObjectId.is_valid(user_id) or caller.id != ObjectId(user_id):
        return None
    return document
