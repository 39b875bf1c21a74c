"""Counters in DynamoDB: one conditional ``UpdateItem`` with ``ADD`` per counter.

Each update adds only if the counter has room (``attribute_not_exists(n) OR n <= :room``), which
DynamoDB evaluates atomically per item, so racing instances never both get the last unit
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html).
When a later counter refuses, or cannot be updated at all (no time left, an error), the earlier
ones of the same request are given back (``ADD`` the negative amount), so a refused or failed
charge costs nothing. Items carry ``expires_at`` for the
table's TTL (template.yaml enables it; https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html);
TTL deletion is lazy, so a window's key embeds its start and an old item is never read again.

boto3 is the Lambda runtime's own (never bundled); it is imported here only. One attempt per
call (no SDK retries) bounded by ``QUOTA_STORE_TIMEOUT_SECONDS``, and started only when that much
time is left before the request's deadline: a slow store is down for this request, not a reason
to miss its deadline. A give-back after a refusal or a failure is not checked against the
deadline: it returns what this request took (itself bounded by the per-call timeout).
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.deadline import Deadline
from shared.errors import ConfigError
from shared.limits.policy import Charge
from shared.limits.store import Outcome, StoreUnavailable, time_for_a_call

KEY = "pk"
COUNT = "n"
EXPIRES = "expires_at"


class DynamoDBStore:
    kind = "dynamodb"

    def __init__(self, table: str, timeout: float) -> None:
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError:
            raise ConfigError("QUOTA_STORE=dynamodb needs boto3 (the AWS Lambda runtime provides it).") from None
        config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1})
        self._client = boto3.client("dynamodb", config=config)
        self._table = table
        self._timeout = timeout
        self._errors = (BotoCoreError, ClientError)
        self._refused = self._client.exceptions.ConditionalCheckFailedException

    def charge(self, charges: Sequence[Charge], now: float, deadline: Deadline) -> Outcome:
        used: list[int] = []
        try:
            for i, charge in enumerate(charges):
                time_for_a_call(deadline, self._timeout)
                current = None
                if charge.amount > charge.limit:  # never fits; a new item would pass the condition
                    current = 0
                else:
                    try:
                        used.append(self._add(charge, charge.amount, room=charge.limit - charge.amount))
                    except self._refused as exc:
                        current = int((exc.response.get("Item") or {}).get(COUNT, {}).get("N", charge.limit))
                if current is not None:
                    self._give_back(charges[: len(used)])
                    before = [u - c.amount for u, c in zip(used, charges, strict=False)]
                    return Outcome(i, (*before, current, *(0 for _ in charges[i + 1 :])))
        except (StoreUnavailable, *self._errors) as exc:
            self._roll_back(charges[: len(used)])
            raise StoreUnavailable(type(exc).__name__) from None
        return Outcome(None, tuple(used))

    def give_back(self, charges: Sequence[Charge], amounts: Sequence[int], deadline: Deadline) -> None:
        time_for_a_call(deadline, self._timeout)
        try:
            for charge, amount in zip(charges, amounts, strict=True):
                if amount:
                    self._take(charge, amount)
        except self._errors as exc:
            raise StoreUnavailable(type(exc).__name__) from None

    def _take(self, charge: Charge, amount: int) -> None:
        """Take ``amount`` off a counter, or all it holds when that is less (never below zero)."""
        for _ in range(3):  # a racing instance may change the counter between the two tries
            try:
                self._client.update_item(
                    TableName=self._table,
                    Key={KEY: {"S": charge.key}},
                    UpdateExpression="ADD #n :less",
                    ConditionExpression="#n >= :amount",
                    ExpressionAttributeNames={"#n": COUNT},
                    ExpressionAttributeValues={":less": {"N": str(-amount)}, ":amount": {"N": str(amount)}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return
            except self._refused as exc:
                amount = int((exc.response.get("Item") or {}).get(COUNT, {}).get("N", 0))
                if amount <= 0:
                    return

    def _roll_back(self, charges: Sequence[Charge]) -> None:
        """The part of a charge that was applied before it failed: given back, best effort."""
        try:
            self._give_back(charges)
        except self._errors:
            pass  # the store is failing; the counters expire with their window

    def _add(self, charge: Charge, amount: int, room: int | None) -> int:
        request: dict = {
            "TableName": self._table,
            "Key": {KEY: {"S": charge.key}},
            "UpdateExpression": "ADD #n :amount SET #e = if_not_exists(#e, :expires)",
            "ExpressionAttributeNames": {"#n": COUNT, "#e": EXPIRES},
            "ExpressionAttributeValues": {":amount": {"N": str(amount)}, ":expires": {"N": str(charge.resets_at)}},
            "ReturnValues": "ALL_NEW",
        }
        if room is not None:
            request["ConditionExpression"] = "attribute_not_exists(#n) OR #n <= :room"
            request["ExpressionAttributeValues"][":room"] = {"N": str(room)}
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        answer = self._client.update_item(**request)
        return int(answer["Attributes"][COUNT]["N"])

    def _give_back(self, charges: Sequence[Charge]) -> None:
        for charge in charges:
            self._add(charge, -charge.amount, room=None)
