"""What the test provider knows about its users besides Django's user: whether it vouches for
their email (the `email_verified` claim)."""
from django.conf import settings
from django.db import models


class Person(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person")
    email_verified = models.BooleanField(default=True)
    name = models.CharField(max_length=150, blank=True)
