"""The suite's fixtures (tests/conftest.py) for every test folder: tests/ and each capability's
own tests/ (accounts/<capability>/tests, profiles/tests). pytest applies a conftest only below its
folder; this one, at the root, makes tests/conftest.py's fixtures and hooks apply everywhere."""
from tests.conftest import *  # noqa: F401,F403
