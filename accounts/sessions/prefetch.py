"""The caller's document, read once by authentication, with what the view wants joined to it in
the same round trip (the user-with-details join of GET /users/me, say). One module owns both
halves of that arrangement: how authentication asks the view what to join, and the typed result
a selector reads back.

A view opts in by defining `caller_lookups(caller_id) -> list[dict] | None` (MongoDB `$lookup`
stages). Authentication then reads the caller with one aggregation instead of a `find_one` and
leaves a `CallerPrefetch` on the user; `prefetched_for(caller, user_id)` hands it to a selector
only when the request reads the caller themselves."""
from dataclasses import dataclass

from bson import ObjectId


@dataclass(frozen=True)
class CallerPrefetch:
    """What authentication read: the caller's stored `document` (raw, as MongoDB holds it) and,
    for each `$lookup` stage's `as` name, the documents it `joined`."""

    document: dict
    joined: dict[str, list[dict]]


def caller_lookups(request, user_id: ObjectId) -> list[dict] | None:
    """The `$lookup` stages the view handling `request` wants run with the caller's document:
    its `caller_lookups(caller_id)` answer, or None (a plain `find_one`)."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    ask = getattr(view, "caller_lookups", None)
    return ask(str(user_id)) if ask is not None else None


def prefetch_split(document: dict, lookups: list[dict]) -> CallerPrefetch:
    """Take the joined arrays out of the aggregated `document` (which is then the stored one)."""
    joined = {stage["$lookup"]["as"]: document.pop(stage["$lookup"]["as"], []) for stage in lookups}
    return CallerPrefetch(document=document, joined=joined)


def prefetched_for(caller, user_id: str) -> CallerPrefetch | None:
    """The prefetch authentication left on `caller`, when the request reads `user_id` and that is
    the caller; else None (the selector reads for itself)."""
    prefetch = getattr(caller, "prefetched", None)
    if prefetch is None or not ObjectId.is_valid(user_id) or caller.id != ObjectId(user_id):
        return None
    return prefetch
