"""Passwords are hashed with argon2id; a real service uses the recommended parameters."""

from __future__ import annotations

import os
import subprocess
import sys

from mall.people import auth

SHOW_HASH = "from mall.people import auth; print(auth._hasher.hash('correct horse battery'))"


def hash_in_a_fresh_process(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "MALL_PASSWORD_HASH"}
    done = subprocess.run(
        [sys.executable, "-c", SHOW_HASH],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()


def test_a_service_hashes_with_argon2id_and_the_recommended_parameters() -> None:
    assert hash_in_a_fresh_process().startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_the_test_suites_fast_hashes_are_still_argon2id_and_verify_either_way() -> None:
    fast = hash_in_a_fresh_process(MALL_PASSWORD_HASH="fast")
    strong = hash_in_a_fresh_process()
    assert fast.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert auth._hasher.verify(fast, "correct horse battery")
    assert auth._hasher.verify(strong, "correct horse battery")
