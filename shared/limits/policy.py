"""What one request is charged: each configured limit becomes a :class:`Charge` on a counter.

Fixed windows, in UTC: a minute for ``RATE_LIMIT_PER_MINUTE``, a day for the token limits
(``CLIENT_DAILY_TOKENS``, ``DAILY_TOKEN_BUDGET``). Tokens are what the request *asks for*
(``max_new_tokens`` × ``num_return_sequences``, chat ``max_tokens``, the route's cap when absent),
counted before forwarding, so a refused request costs nothing upstream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.limits.identity import pseudonym
from shared.settings import Settings

MINUTE = 60
DAY = 86_400
# One hash tag for every key, so a Redis Cluster keeps them in one slot (a script may only touch
# keys of one slot: https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags).
PREFIX = "{hfproxy}"


@dataclass(frozen=True)
class Charge:
    limit_name: str  # "rate", "client_tokens", "user_rate", "user_tokens", "budget", "vouched_*": logs, errors
    key: str
    amount: int
    limit: int
    window: int  # seconds
    resets_at: int  # epoch seconds at which the window ends (the key expires then)

    @property
    def counts_requests(self) -> bool:
        """A request counter (settlement leaves it alone); the others count tokens."""
        return self.limit_name.endswith("rate")

    def retry_after(self, now: float) -> int:
        return max(1, int(self.resets_at - now + 0.999))


def user_limits(settings: Settings) -> tuple[int | None, int | None]:
    """A signed-in user's requests a minute and tokens a day: ``USER_*``, else the per-client limits."""
    rate, tokens = settings.user_rate_limit_per_minute, settings.user_daily_tokens
    return (
        settings.rate_limit_per_minute if rate is None else rate,
        settings.client_daily_tokens if tokens is None else tokens,
    )


def charges_for(
    settings: Settings, client: str, tokens: int, now: float, also: Sequence[str] = (), user: bool = False
) -> list[Charge]:
    """The counters this request adds to, cheapest check first; empty when no limit is set.

    Each identity in ``also`` is held to the client's limits too (``vouched_rate``,
    ``vouched_tokens``): a verified Netlify signature does not cover the client address it comes
    with, so a captured one, replayed with a new address each time, still shares one allowance.
    A signed-in ``user`` is held to the user limits on counters of its own (``user_rate``,
    ``user_tokens``), whatever address it calls from.
    """
    minute = int(now // MINUTE) * MINUTE
    day = int(now // DAY) * DAY
    charges = []
    if user:
        who = pseudonym(client)
        rate, daily = user_limits(settings)
        if rate is not None:
            charges.append(Charge("user_rate", f"{PREFIX}:user_rate:{minute}:{who}", 1, rate, MINUTE, minute + MINUTE))
        if daily is not None:
            charges.append(Charge("user_tokens", f"{PREFIX}:user_tokens:{day}:{who}", tokens, daily, DAY, day + DAY))
    for index, identity in enumerate(() if user else (client, *also)):
        who, kind = pseudonym(identity), "" if index == 0 else "vouched_"
        if settings.rate_limit_per_minute is not None:
            limit = settings.rate_limit_per_minute
            key = f"{PREFIX}:{kind}rate:{minute}:{who}"
            charges.append(Charge(f"{kind}rate", key, 1, limit, MINUTE, minute + MINUTE))
        if settings.client_daily_tokens is not None:
            limit = settings.client_daily_tokens
            key = f"{PREFIX}:{kind}tokens:{day}:{who}"
            charges.append(Charge(f"{kind or 'client_'}tokens", key, tokens, limit, DAY, day + DAY))
    if settings.daily_token_budget is not None:
        charges.append(Charge("budget", f"{PREFIX}:budget:{day}", tokens, settings.daily_token_budget, DAY, day + DAY))
    return charges
