"""Outgoing mail, rendered from templates and sent by the outbox's workers (accounts/events/).

Guarantees:
- A request never waits for the mail server and nothing waits in process memory: the request
  writes a job to the outbox (`mail_enqueue`, one round trip) and a worker, in this process or in
  `manage.py outbox` anywhere, renders and sends it. A SIGKILL of the service loses no mail: the
  job is in MongoDB and a worker sends it after the restart.
- A slow or silent server holds a worker for at most `EMAIL_TIMEOUT` seconds per connection step
  (Django's SMTP backend applies it to the socket). A failed send is retried with backoff
  (`OUTBOX_RETRY_DELAYS`) and, when the retries run out, kept as a dead letter (`manage.py
  outbox --failed`, `--retry`). What is logged names the kind of mail and the error's class,
  never the body, link or token.
- Each message has a plain-text body and an HTML alternative, from the templates
  `email/<kind>_subject.txt`, `email/<kind>.txt` and `email/<kind>.html`; a deployer replaces
  any of them by putting a file of the same name under `EMAIL_TEMPLATES_DIR`.
"""
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from accounts.events.mail_jobs import CHANGED, NOTICE, RESET, VERIFY, mail_enqueue, mail_composer_register, mail_job, mail_transport_register  # noqa: F401  (the kinds, for callers)
from common import metrics


def mail_render(*, kind: str, to: str, context: dict) -> EmailMultiAlternatives:
    """The message of `kind` for `to`, from its three templates."""
    subject = " ".join(render_to_string(f"email/{kind}_subject.txt", context).split())
    text = render_to_string(f"email/{kind}.txt", context)
    html = render_to_string(f"email/{kind}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    message.attach_alternative(html, "text/html")
    return message


def mail_send(*, kind: str, to: str, context: dict) -> None:
    """Render and send one message (an outbox worker calls this); raises when it was not sent."""
    try:
        mail_render(kind=kind, to=to, context=context).send()
    except Exception:
        metrics.count_mail(kind, "failed")
        raise
    metrics.count_mail(kind, "sent")


mail_transport_register(mail_send)
