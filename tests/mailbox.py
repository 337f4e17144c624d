"""Reading the mail the service sent (Django's locmem outbox), as a person reads it: find the
message, follow its link, take the token out of the link."""
from urllib.parse import parse_qs, urlsplit

from django.core import mail as django_mail

from accounts.events.outbox import outbox_drain


def delivered(to: str | None = None) -> list:
    """Messages sent so far (after the outbox's due jobs have run), to `to` if given."""
    outbox_drain()
    return [m for m in django_mail.outbox if to is None or to in m.to]


def link_in(message) -> str:
    """The one link of a message's plain-text body."""
    links = [word for word in message.body.split() if word.startswith(("http://", "https://"))]
    assert len(links) == 1, message.body
    return links[0]


def token_in(message) -> str:
    return parse_qs(urlsplit(link_in(message)).query)["token"][0]


def last_token(to: str) -> str:
    """The token of the latest message sent to `to`."""
    messages = delivered(to)
    assert messages, f"no mail to {to}"
    return token_in(messages[-1])
