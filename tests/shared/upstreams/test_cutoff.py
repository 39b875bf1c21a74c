"""The deadline watchdog: one thread cuts a blocked read off at its deadline, and only then."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from shared.upstreams.cutoff import Watchdog


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    ours.settimeout(10)  # a hung test fails instead of hanging the suite
    yield ours, theirs
    ours.close()
    theirs.close()


def test_a_blocked_read_ends_at_the_deadline(pair):
    # GIVEN a peer that sends nothing, and a read guarded with a deadline 0.2 s away
    ours, _ = pair
    started = time.monotonic()
    # WHEN we read
    with Watchdog().guard(started + 0.2, ours):
        got = ours.recv(1)
    # THEN the read ends with EOF at the deadline, not at the 10 s socket timeout
    elapsed = time.monotonic() - started
    assert got == b""
    assert 0.2 <= elapsed < 5


def test_an_earlier_deadline_wakes_a_watchdog_sleeping_towards_a_later_one(pair):
    # GIVEN a watchdog already sleeping towards a deadline 60 s away
    dog = Watchdog()
    far_a, far_b = socket.socketpair()
    with far_a, far_b, dog.guard(time.monotonic() + 60, far_a):
        ours, _ = pair
        started = time.monotonic()
        # WHEN a second read is guarded with a deadline 0.2 s away
        with dog.guard(started + 0.2, ours):
            got = ours.recv(1)
        # THEN that read is cut off at its own deadline; the far one is untouched
        assert got == b"" and time.monotonic() - started < 5
        far_b.sendall(b"x")
        assert far_a.recv(1) == b"x"


def test_a_socket_released_before_its_deadline_is_never_shut(pair):
    # GIVEN a read that finished well before its 0.1 s deadline
    dog = Watchdog()
    ours, theirs = pair
    with dog.guard(time.monotonic() + 0.1, ours):
        theirs.sendall(b"a")
        assert ours.recv(1) == b"a"
    # WHEN the watchdog has certainly passed that deadline (it cut a later-armed read at 0.2 s)
    other, _peer = socket.socketpair()
    with other, _peer, dog.guard(time.monotonic() + 0.2, other):
        assert other.recv(1) == b""
    # THEN the released socket still works both ways (e.g. back in the connection pool)
    theirs.sendall(b"b")
    assert ours.recv(1) == b"b"
    ours.sendall(b"c")
    assert theirs.recv(1) == b"c"


def test_many_guarded_calls_share_one_thread(pair):
    # GIVEN a fresh watchdog
    dog = Watchdog()
    ours, theirs = pair
    before = {t.ident for t in threading.enumerate()}
    # WHEN 200 calls are guarded one after another
    for _ in range(200):
        with dog.guard(time.monotonic() + 30, ours):
            theirs.sendall(b"x")
            ours.recv(1)
    # THEN one thread watches them all (a Timer per call started 200)
    started = [t for t in threading.enumerate() if t.ident not in before]
    assert [t.name for t in started] == ["hfproxy-cutoff"]
