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
    limit_name: str  # "rate", "client_tokens", "budget", "vouched_rate", "vouched_tokens": in logs and errors
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


def charges_for(settings: Settings, client: str, tokens: int, now: float, also: Sequence[str] = ()) -> list[Charge]:
    """The counters this request adds to, cheapest check first; empty when no limit is set.

    Each identity in ``also`` is held to the client's limits too (``vouched_rate``,
    ``vouched_tokens``): a verified Netlify signature does not cover the client address it comes
    with, so a captured one, replayed with a new address each time, still shares one allowance.
    """
    minute = int(now // MINUTE) * MINUTE
    day = int(now // DAY) * DAY
    charges = []
    for index, identity in enumerate((client, *also)):
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
