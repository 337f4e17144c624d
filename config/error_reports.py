"""What an error report (Django's DEBUG page, a 500 mailed or logged by an exception reporter)
may show of a request: never a password, TOTP secret or code, token or key.

Django's own filter hides `sensitive_variables` and `sensitive_post_parameters` only with DEBUG
off, and shows every other local variable of every frame. Under DEBUG (the README's first
command) the attacker of issue 21 read the decrypted TOTP secret and the password in the frames
of a 500. This filter is on whatever DEBUG says, honours both decorators, and also hides, in every
frame, any variable, dict key or dataclass field whose name says secret (`hidden_names`), at any
depth, so a function nobody decorated leaks nothing either.
"""
import dataclasses
import re

from django.views.debug import SafeExceptionReporterFilter

# Django's list (settings and request headers: API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE)
# plus what two-factor and the email flows name their secrets.
HIDDEN_NAMES = re.compile(r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CODE|OTP|CREDENTIAL|CEREMONY", re.I)


class SecretsHiddenReporterFilter(SafeExceptionReporterFilter):
    """Settings: `DEFAULT_EXCEPTION_REPORTER_FILTER` (config/settings/base.py)."""

    hidden_settings = HIDDEN_NAMES

    def is_active(self, request) -> bool:
        return True  # DEBUG or not: a debug page is as readable as a log

    def cleanse_setting(self, key, value):
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = {field.name: getattr(value, field.name, None) for field in dataclasses.fields(value)}
        return super().cleanse_setting(key, value)

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleanse_setting(name, value)) for name, value in variables]
