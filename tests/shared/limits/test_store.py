"""The three stores behave the same: all-or-nothing charges, limits exact, windows that roll over."""

from __future__ import annotations

import time

import pytest

from shared.deadline import Deadline
from shared.errors import ConfigError
from shared.limits.policy import charges_for
from shared.limits.store import MemoryStore
from shared.limits.stores import store_for
from shared.settings import Settings

# 01:00:00 UTC, two days from now: windows are computed from the instant given, and Redis must
# not see an EXPIREAT in the past (it would delete the key at once).
NOW = (time.time() // 86_400 + 2) * 86_400 + 3600.0
STORES = ["memory", "redis", "dynamodb"]


@pytest.fixture(params=STORES)
def limited(request) -> Settings:
    """GIVEN limits of 3 requests a minute, 100 tokens a client a day, 150 tokens a day in all,
    counted in each store in turn."""
    base = Settings(rate_limit_per_minute=3, client_daily_tokens=100, daily_token_budget=150)
    if request.param == "redis":
        return base.with_changes(quota_store="redis", redis_url=request.getfixturevalue("redis_url"))
    if request.param == "dynamodb":
        return base.with_changes(quota_store="dynamodb", quota_table=request.getfixturevalue("dynamodb_table"))
    return base


def charge(settings: Settings, client: str, tokens: int, at: float = NOW):
    charges = charges_for(settings, client, tokens, at)
    return store_for(settings).charge(charges, at, Deadline.after(10)), charges


def test_exactly_the_rate_limit_is_admitted_in_a_minute_and_the_next_minute_starts_fresh(limited):
    # WHEN one client makes 4 requests in the same minute
    outcomes = [charge(limited, "a", 1, NOW + i)[0] for i in range(4)]
    # THEN 3 are admitted, the 4th is refused by the rate counter (index 0) and nothing was added
    assert [o.refused for o in outcomes] == [None, None, None, 0]
    assert outcomes[2].used[0] == 3 and outcomes[3].used[0] == 3
    # AND in the next minute the same client is admitted again
    later = NOW - NOW % 60 + 60
    assert charge(limited, "a", 1, later)[0].refused is None


def test_tokens_are_refused_all_or_nothing_and_a_refusal_costs_nothing(limited):
    # GIVEN a client that asked for 90 of its 100 tokens today
    assert charge(limited, "a", 90)[0].refused is None
    # WHEN it asks for 20 more, THEN the client counter (index 1) refuses
    outcome, _ = charge(limited, "a", 20, NOW + 1)
    assert outcome.refused == 1
    # AND the refused request took nothing: neither its rate unit nor its tokens, nor the budget
    outcome, _ = charge(limited, "a", 10, NOW + 2)
    assert outcome.refused is None
    assert outcome.used == (2, 100, 100)


def test_the_budget_stops_every_client_once_all_together_have_spent_it(limited):
    # GIVEN two clients that spent 100 and 40 of the 150-token budget
    assert charge(limited, "a", 100)[0].refused is None
    assert charge(limited, "b", 40)[0].refused is None
    # WHEN a third client, with its own allowance untouched, asks for 20
    outcome, charges = charge(limited, "c", 20)
    # THEN the budget counter refuses it
    assert charges[outcome.refused].limit_name == "budget"
    # AND 10 still fit
    assert charge(limited, "c", 10)[0].refused is None


def test_a_request_asking_more_than_a_whole_limit_is_refused_even_on_a_fresh_counter(limited):
    # WHEN a new client asks for more tokens than it may have in a day
    outcome, charges = charge(limited, "fresh", 101)
    # THEN the client counter refuses, and its rate unit was given back
    assert charges[outcome.refused].limit_name == "client_tokens"
    assert charge(limited, "fresh", 1)[0].used[0] == 1


def test_the_daily_counters_roll_over_at_utc_midnight(limited):
    assert charge(limited, "a", 100)[0].refused is None
    assert charge(limited, "a", 1, NOW + 1)[0].refused == 1
    midnight = NOW - NOW % 86_400 + 86_400
    assert charge(limited, "a", 100, midnight)[0].refused is None


def test_clients_do_not_share_counters(limited):
    for _ in range(3):
        assert charge(limited, "a", 1)[0].refused is None
    assert charge(limited, "a", 1)[0].refused == 0
    assert charge(limited, "b", 1)[0].refused is None


def test_redis_keys_expire_with_their_window(redis_url):
    import redis

    settings = Settings(rate_limit_per_minute=5, quota_store="redis", redis_url=redis_url)
    now = time.time()
    _, charges = charge(settings, "a", 1, now)
    ttl = redis.Redis.from_url(redis_url).ttl(charges[0].key)
    # THEN the key ends with its minute (EXPIREAT the window's end), nothing to clean up
    assert 0 < ttl <= 60


def test_dynamodb_items_carry_the_ttl_attribute(dynamodb_table):
    import boto3

    settings = Settings(client_daily_tokens=50, quota_store="dynamodb", quota_table=dynamodb_table)
    _, charges = charge(settings, "a", 5)
    item = boto3.client("dynamodb").get_item(TableName=dynamodb_table, Key={"pk": {"S": charges[0].key}})["Item"]
    assert int(item["expires_at"]["N"]) == charges[0].resets_at and int(item["n"]["N"]) == 5


def test_memory_store_drops_finished_windows():
    store = MemoryStore()
    settings = Settings(rate_limit_per_minute=5)
    for i in range(100):
        store.charge(charges_for(settings, f"c{i}", 1, NOW), NOW, Deadline.after(10))
    store.charge(charges_for(settings, "late", 1, NOW + 3600), NOW + 3600, Deadline.after(10))
    assert len(store._counts) == 1


@pytest.mark.parametrize(
    ("changes", "variable"),
    [({"quota_store": "redis"}, "REDIS_URL"), ({"quota_store": "dynamodb"}, "QUOTA_TABLE")],
)
def test_a_shared_store_without_its_address_is_a_configuration_error_naming_the_setting(changes, variable):
    with pytest.raises(ConfigError, match=variable):
        store_for(Settings(rate_limit_per_minute=1, **changes))


def test_a_redis_url_must_be_redis():
    with pytest.raises(ConfigError, match="REDIS_URL"):
        store_for(Settings(rate_limit_per_minute=1, quota_store="redis", redis_url="http://x"))


def test_store_keys_do_not_hold_the_clients_address():
    # GIVEN every limit on, WHEN a client's charges are made
    settings = Settings(rate_limit_per_minute=1, client_daily_tokens=1, daily_token_budget=1)
    keys = [c.key for c in charges_for(settings, "203.0.113.7", 1, NOW)]
    # THEN the keys are per client but carry a pseudonym, not the address
    assert len(set(keys)) == 3 and not any("203.0.113" in k for k in keys)
    assert keys[0] != charges_for(settings, "203.0.113.8", 1, NOW)[0].key


def test_dynamodb_gives_back_the_first_counter_when_the_second_cannot_start(dynamodb_table):
    # GIVEN two limits (two counters), and a request with time for one store call only
    from shared.limits.store import StoreUnavailable

    class OneCallLeft(Deadline):
        asked: list[float] = []

        def remaining(self) -> float:
            self.asked.append(1.0)
            return 10.0 if len(self.asked) == 1 else 0.0

    settings = Settings(
        rate_limit_per_minute=5, client_daily_tokens=50, quota_store="dynamodb", quota_table=dynamodb_table
    )
    charges = charges_for(settings, "a", 5, NOW)
    # WHEN the first counter is updated and the second call cannot start
    with pytest.raises(StoreUnavailable):
        store_for(settings).charge(charges, NOW, OneCallLeft(0.0))
    # THEN the first counter was given back: a failed charge costs nothing
    probe = [c.__class__(c.limit_name, c.key, 0, c.limit, c.window, c.resets_at) for c in charges]
    assert store_for(settings).charge(probe, NOW, Deadline.after(10)).used == (0, 0)
