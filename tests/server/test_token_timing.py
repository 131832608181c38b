"""Authentication time does not depend on where a token's secret is wrong.

Two groups of calls with the right token id: one whose secret is wrong
in its first character, one wrong in its last. The calls are
interleaved in random order (so drift and load hit both groups alike),
with the garbage collector paused, and the two timing samples are
compared with a Mann-Whitney U test, which needs no assumption about
the heavy-tailed shape of timing noise. A leak is reported only when
the difference is both significant (|z| above a strict limit) and
material (the interquartile means differ by more than a small
fraction), and a
borderline result is measured once more before it fails.

So that this test can fail, the same method is run on a verifier with
a classic flaw: after the real lookup it compares the secret character
by character and stops at the first difference. That flaw costs about
a microsecond (a 3-7 % shift of the typical time here) over some tens of
microseconds of noisy work, and the method must see it. A systematic
difference below `MIN_SHIFT` is not called a leak: identical code paths
on different inputs already differ by a few tenths of a percent (cache
and branch-predictor effects), which 5,000 samples make "significant".
"""

from __future__ import annotations

import gc
import math
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from platxa_secrets.clock import FrozenClock
from platxa_secrets.core import token_format
from platxa_secrets.core.config import load_config
from platxa_secrets.errors import AuthenticationError
from platxa_secrets.services.initialise import initialise
from platxa_secrets.services.runtime import Runtime
from platxa_secrets.services.tokens import TokenService
from tests.conftest import make_env

SAMPLES = 5000
WARM_UP = 300
Z_LIMIT = 5.0
MIN_SHIFT = 0.01


@dataclass(frozen=True)
class Verdict:
    """How the second group's timings compare with the first's."""

    z: float
    shift: float
    first_ns: float
    second_ns: float

    @property
    def leak(self) -> bool:
        return abs(self.z) > Z_LIMIT and abs(self.shift) > MIN_SHIFT


@pytest.fixture
def service(tmp_path: Path) -> Iterator[TokenService]:
    env = make_env(
        tmp_path / "home",
        f"sqlite:///{tmp_path / 'store' / 'secrets.db'}",
        Fernet.generate_key().decode(),
    )
    runtime = Runtime(load_config(env=env), clock=FrozenClock(), actor="test:timing")
    initialise(runtime)
    yield TokenService(runtime)
    runtime.close()


def forge(token_id: str, secret: str) -> str:
    body = f"{token_format.PREFIX}{token_id}_{secret}"
    return f"{body}_{token_format.checksum(body)}"


def flip(char: str) -> str:
    return "B" if char == "A" else "A"


def wrong_at_both_ends(text: str) -> tuple[str, str]:
    """The token with its secret wrong in the first, then the last place."""
    parsed = token_format.parse_token(text)
    secret = parsed.secret
    first = flip(secret[0]) + secret[1:]
    last = secret[:-1] + flip(secret[-1])
    return forge(parsed.id, first), forge(parsed.id, last)


def refused(service: TokenService, text: str) -> Callable[[], None]:
    def attempt() -> None:
        try:
            service.authenticate(text)
        except AuthenticationError:
            return
        raise AssertionError("a wrong secret was accepted")

    return attempt


def measure(first: Callable[[], None], second: Callable[[], None]) -> Verdict:
    """Time both calls SAMPLES times each, interleaved at random."""
    order = [0] * (SAMPLES + WARM_UP) + [1] * (SAMPLES + WARM_UP)
    random.shuffle(order)
    calls = (first, second)
    timings: tuple[list[int], list[int]] = ([], [])
    clock = time.perf_counter_ns

    gc.collect()
    gc.disable()
    try:
        for group in order:
            call = calls[group]
            started = clock()
            call()
            timings[group].append(clock() - started)
    finally:
        gc.enable()

    a, b = (sample[WARM_UP:] for sample in timings)
    first_typical, second_typical = interquartile_mean(a), interquartile_mean(b)
    return Verdict(
        z=mann_whitney_z(a, b),
        shift=(second_typical - first_typical) / first_typical,
        first_ns=first_typical,
        second_ns=second_typical,
    )


def interquartile_mean(sample: list[int]) -> float:
    """The mean of the middle half: steadier than a median on bimodal noise."""
    ordered = sorted(sample)
    quarter = len(ordered) // 4
    return statistics.fmean(ordered[quarter : len(ordered) - quarter])


def mann_whitney_z(a: list[int], b: list[int]) -> float:
    """The z-score of the U statistic of `b` against `a`, ties averaged.

    Positive when `b` tends to be larger (slower).
    """
    pooled = sorted([(value, 0) for value in a] + [(value, 1) for value in b])
    rank_sum_b = 0.0
    tie_term = 0.0
    start = 0
    while start < len(pooled):
        end = start
        while end + 1 < len(pooled) and pooled[end + 1][0] == pooled[start][0]:
            end += 1
        average_rank = (start + end) / 2 + 1
        rank_sum_b += average_rank * sum(g for _, g in pooled[start : end + 1])
        ties = end - start + 1
        tie_term += ties**3 - ties
        start = end + 1

    n1, n2 = len(a), len(b)
    n = n1 + n2
    u = rank_sum_b - n2 * (n2 + 1) / 2
    variance = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    return (u - n1 * n2 / 2) / math.sqrt(variance)


def naive_equal(presented: str, stored: str) -> bool:
    """The flaw under test: stops at the first character that differs."""
    if len(presented) != len(stored):
        return False
    for left, right in zip(presented, stored, strict=True):  # noqa: SIM110 (the flaw)
        if left != right:
            return False
    return True


def test_the_statistic_is_centred_on_identical_samples() -> None:
    rng = random.Random(7)
    same = [rng.randint(1000, 2000) for _ in range(2000)]
    shifted = [value + 200 for value in same]

    assert abs(mann_whitney_z(same, list(same))) < 1e-9
    assert mann_whitney_z(same, shifted) > 10
    assert mann_whitney_z(shifted, same) < -10


def test_authenticate_takes_as_long_whichever_character_is_wrong(
    service: TokenService,
) -> None:
    text, _ = service.create("timing", ["tenant-a:read"])
    first_wrong, last_wrong = wrong_at_both_ends(text)
    service.authenticate(text)

    verdict = measure(refused(service, first_wrong), refused(service, last_wrong))
    if verdict.leak:
        verdict = measure(refused(service, first_wrong), refused(service, last_wrong))

    assert not verdict.leak, verdict


def test_the_method_detects_an_early_exit_comparison(service: TokenService) -> None:
    text, _ = service.create("timing", ["tenant-a:read"])
    right = token_format.parse_token(text).secret
    first_wrong, last_wrong = wrong_at_both_ends(text)

    def leaky(candidate: str) -> Callable[[], None]:
        real = refused(service, candidate)
        secret = token_format.parse_token(candidate).secret

        def attempt() -> None:
            real()
            assert not naive_equal(secret, right)

        return attempt

    verdict = measure(leaky(first_wrong), leaky(last_wrong))
    if not verdict.leak:
        verdict = measure(leaky(first_wrong), leaky(last_wrong))

    assert verdict.leak, verdict
    assert verdict.z > 0 and verdict.shift > 0, verdict
