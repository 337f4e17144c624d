"""The browser login form (email, password and, with two-factor on, a code), in the look of
DRF's own login page."""
from django import forms


class LoginForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"class": "form-control", "autofocus": True, "autocomplete": "email"})
    )
    password = forms.CharField(
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "current-password"}),
    )
    code = forms.CharField(
        required=False,
        max_length=64,
        label="Two-factor code",
        help_text="Only if two-factor login is on: the app's six digits, or a recovery code.",
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "one-time-code"}),
    )
