"""The suite's own guards (tests/conftest.py): loopback only, and a whole minute for each test's limits."""

from __future__ import annotations

import socket
import time

import pytest

from shared.limits import store


@pytest.mark.parametrize("host", ["huggingface.co", "router.huggingface.co", "198.51.100.7", "[2001:db8::1]"])
def test_a_host_that_is_not_loopback_does_not_resolve(host):
    # GIVEN the suite's guard; WHEN a test's code resolves a public host; THEN it fails as without DNS
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo(host, 443)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_resolves(host):
    assert socket.getaddrinfo(host, 80)


def test_the_limits_clock_starts_the_test_at_the_beginning_of_the_current_minute():
    # GIVEN the suite's clock for the limits; WHEN a test reads it
    at, real = store.now(), time.time()
    # THEN it is early in a minute (the test has just begun), less than a minute behind the real clock
    assert at % 60 < 30 and 0 <= real - at < 60
