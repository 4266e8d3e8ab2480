"""Pricing of the disaster-recovery copies: S3 replication and replicated RDS backups are usage items whose
unit prices come from prices.json, and add nothing to the fixed monthly total."""

import pytest

from genai_platform.cost import estimate, load_prices
from genai_platform.mockcloud import Plan, RecordedResource

PRICES = load_prices()
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
BACKUPS = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"


def estimate_one(type_token: str, inputs: dict, prices: dict | None = None):
    resource = RecordedResource(urn=f"urn:pulumi:prod::genai-platform::{type_token}::copy", type=type_token,
                                name="copy", parent=None, custom=True, protect=False, dependencies=[], inputs=inputs)
    return estimate(Plan(project="genai-platform", stack="prod", resources=[resource], outputs={}), prices=prices)


def destination(storage_class: str | None = "STANDARD_IA", time_control: bool = False) -> dict:
    found = {"bucket": "arn:aws:s3:::replica"}
    if storage_class:
        found["storageClass"] = storage_class
    if time_control:
        found["replicationTime"] = {"status": "Enabled", "time": {"minutes": 15}}
    return {"rules": [{"status": "Enabled", "destination": found}]}


@pytest.mark.parametrize(("storage_class", "time_control", "basis"), [
    ("STANDARD_IA", False, "replica storage STANDARD_IA $0.0125/GB-month + replication $0.01 per 1,000 objects "
                           "+ inter-region transfer $0.02/GB"),
    (None, True, "replica storage STANDARD $0.023/GB-month + replication $0.005 per 1,000 objects "
                 "+ inter-region transfer $0.02/GB + Replication Time Control $0.015/GB"),
])
def test_s3_replication_is_usage_priced_by_the_replicas_storage_class(storage_class, time_control, basis):
    result = estimate_one(REPLICATION, destination(storage_class, time_control))
    assert result.items == [] and result.unpriced == [] and result.monthly == 0
    assert [entry["basis"] for entry in result.usage_based] == [basis]


def test_the_unit_prices_come_from_the_price_table():
    prices = {**PRICES, "s3_replication": {**PRICES["s3_replication"], "inter_region_transfer_gb": 0.09}}
    [entry] = estimate_one(REPLICATION, destination(), prices).usage_based
    assert "inter-region transfer $0.09/GB" in entry["basis"]


def test_an_unknown_replica_storage_class_is_unpriced_not_guessed():
    result = estimate_one(REPLICATION, destination("DEEP_ARCHIVE"))
    assert [entry["reason"] for entry in result.unpriced] == [
        "replica storage class 'DEEP_ARCHIVE' is not in the price table (genai_platform/cost/prices.json)"]


def test_replicated_backups_are_usage_priced_with_no_free_allowance():
    result = estimate_one(BACKUPS, {"sourceDbInstanceArn": "arn:aws:rds:us-east-1:123456789012:db:prod-rag-db",
                                    "kmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/k", "retentionPeriod": 30})
    assert result.items == [] and result.monthly == 0
    assert [entry["basis"] for entry in result.usage_based] == [
        "replicated backups (30 days) $0.095/GB-month, no free allowance + inter-region transfer $0.02/GB"]
