"""Sign and verify cost of the asymmetric JWT algorithms simplejwt and PyJWT offer, on this machine.

    .venv/bin/python bench/jwt_algorithms.py [rounds]

Signs and verifies an access token of the service's shape with each algorithm, interleaved in
rounds (so a busy moment of the shared machine hits every algorithm alike), and prints the median
microseconds per operation, the ratio to HS256 and the token's length. The choice of the default
algorithm (README, "Integrating other services") rests on this.
"""
import statistics
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

PAYLOAD = {
    "token_type": "access", "exp": 4102444800, "iat": 1764680000, "jti": "0b7c9a1e6f2d4b8a9c3e5f7a1b2c4d6e",
    "user_id": "6929a1b2c3d4e5f6a7b8c9d0", "sid": "6929a1b2c3d4e5f6a7b8c9d1", "ver": 0,
    "iss": "https://users.example.com", "aud": "user-service",
}


def keys():
    return {
        "HS256": (b"x" * 64, b"x" * 64),
        "EdDSA": (k := ed25519.Ed25519PrivateKey.generate(), k.public_key()),
        "ES256": (k2 := ec.generate_private_key(ec.SECP256R1()), k2.public_key()),
        "RS256": (k3 := rsa.generate_private_key(public_exponent=65537, key_size=2048), k3.public_key()),
    }


def main(rounds: int = 15, per_round: int = 200) -> None:
    pairs = keys()
    sign = {alg: [] for alg in pairs}
    verify = {alg: [] for alg in pairs}
    length = {}
    for _ in range(rounds):
        for alg, (private, public) in pairs.items():
            start = time.perf_counter()
            for _ in range(per_round):
                token = jwt.encode(PAYLOAD, private, algorithm=alg, headers={"kid": "k1"})
            sign[alg].append((time.perf_counter() - start) / per_round * 1e6)
            start = time.perf_counter()
            for _ in range(per_round):
                jwt.decode(token, public, algorithms=[alg], audience="user-service")
            verify[alg].append((time.perf_counter() - start) / per_round * 1e6)
            length[alg] = len(token)
    base_sign, base_verify = statistics.median(sign["HS256"]), statistics.median(verify["HS256"])
    print(f"{rounds} rounds x {per_round} tokens, median µs per operation (PyJWT {jwt.__version__})")
    print("| algorithm | sign µs | verify µs | sign / HS256 | verify / HS256 | token length |")
    print("|---|---:|---:|---:|---:|---:|")
    for alg in pairs:
        s, v = statistics.median(sign[alg]), statistics.median(verify[alg])
        print(f"| {alg} | {s:.0f} | {v:.0f} | {s / base_sign:.1f}x | {v / base_verify:.1f}x | {length[alg]} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
