"""template.yaml's quota table: made when any limit is set, the function told to count there, allowed
to update its items only, with the key and expiry the DynamoDB store writes."""

from __future__ import annotations

from tests.functions.aws_lambda.template_tools import evaluate, resolve_if


def test_any_limit_creates_the_quota_table_and_the_function_counts_there(sam, cfn, function):
    # GIVEN the HasLimits condition: any of the three limit parameters set
    parameters = {"RateLimitPerMinute": "", "ClientDailyTokens": "", "DailyTokenBudget": ""}
    condition = sam["Conditions"]["HasLimits"]
    assert not evaluate(condition, parameters)
    for name in parameters:
        assert evaluate(condition, {**parameters, name: "10"}), name
    # THEN the table exists only then, on demand, keyed by pk, expiring items through TTL
    table = cfn["Resources"]["QuotaTable"]
    assert table["Condition"] == "HasLimits"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    # AND the function is told to count there
    variables = function["Environment"]["Variables"]
    assert resolve_if(variables["QUOTA_STORE"], has_limits=True) == "dynamodb"
    assert resolve_if(variables["QUOTA_TABLE"], has_limits=True) == {"Ref": "QuotaTable"}


def test_the_function_may_only_update_items_of_the_quota_table(cfn):
    role = cfn["Resources"]["HfProxyFunctionRole"]["Properties"]
    _secret, quota = role["Policies"]
    condition, granted, otherwise = quota["Fn::If"]
    assert condition == "HasLimits" and otherwise == {"Ref": "AWS::NoValue"}
    (statement,) = granted["PolicyDocument"]["Statement"]
    assert statement["Action"] == "dynamodb:UpdateItem"
    assert statement["Resource"] == {"Fn::GetAtt": ["QuotaTable", "Arn"]}


def test_the_table_key_and_ttl_are_the_ones_the_store_writes(sam):
    from shared.limits import dynamodb_store

    props = sam["Resources"]["QuotaTable"]["Properties"]
    assert props["KeySchema"][0]["AttributeName"] == dynamodb_store.KEY
    assert props["TimeToLiveSpecification"]["AttributeName"] == dynamodb_store.EXPIRES
