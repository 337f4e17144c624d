"""The test provider's fixtures (tests/oidc_provider/fixtures.py)."""
from tests.oidc_provider.fixtures import person, provider, test_provider  # noqa: F401  (fixtures)
