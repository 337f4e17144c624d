"""The production hasher: Django's Argon2 on low-priority threads, interchangeable with it."""
from concurrent.futures import ThreadPoolExecutor

from django.contrib.auth.hashers import Argon2PasswordHasher

from accounts.users.hashers import LowPriorityArgon2PasswordHasher


def test_low_priority_argon2_is_django_argon2():
    ours, django = LowPriorityArgon2PasswordHasher(), Argon2PasswordHasher()
    encoded = ours.encode("a long river stone", ours.salt())
    assert encoded.startswith("argon2$argon2id$")
    assert django.verify("a long river stone", encoded)
    assert ours.verify("a long river stone", django.encode("a long river stone", django.salt()))
    assert not ours.verify("another stone", encoded)
    assert ours.safe_summary(encoded)["memory cost"] == django.memory_cost


def test_concurrent_hashes_wait_their_turn_and_all_verify(settings):
    hasher = LowPriorityArgon2PasswordHasher()
    hasher.memory_cost = 1024  # keep the test light; the pool is what is under test
    with ThreadPoolExecutor(8) as pool:
        encoded = list(pool.map(lambda n: hasher.encode(f"password {n}", hasher.salt()), range(8)))
    assert all(hasher.verify(f"password {n}", e) for n, e in enumerate(encoded))
