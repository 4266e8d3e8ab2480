import json

import pulumi
import pytest

from genai_platform.components.aws.data_helpers import access_policy_json, check_kms_key_arn, deny_insecure_transport
from genai_platform.components.aws.data.postgres import PostgresDatabase, PostgresDatabaseArgs
from genai_platform.components.aws.data.redis import RedisCache, RedisCacheArgs
from genai_platform.mockcloud import run_under_mocks

CLIENTS = ["sg-0aaaaaaaaaaaaaaaa", "sg-0bbbbbbbbbbbbbbbb"]
VPC = "vpc-0123456789abcdef0"


def postgres():
    PostgresDatabase("db", PostgresDatabaseArgs(vpc_id=VPC, db_subnet_group_name="net-db",
                                                allowed_security_group_ids=list(CLIENTS)))


def redis():
    RedisCache("cache", RedisCacheArgs(vpc_id=VPC, subnet_ids=["subnet-0aaaaaaaaaaaaaaaa"],
                                       allowed_security_group_ids=list(CLIENTS), auth_token="a-token-of-20-chars-x"))


@pytest.mark.parametrize(("program", "port"), [(postgres, 5432), (redis, 6379)])
def test_data_stores_admit_their_port_only_from_client_security_groups(program, port):
    plan = run_under_mocks(program)
    group = plan.one("aws:ec2/securityGroup:SecurityGroup")
    assert group.inputs["vpcId"] == VPC
    assert "ingress" not in group.inputs and "egress" not in group.inputs  # the provider revokes default egress
    rules = plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert sorted(r.inputs["referencedSecurityGroupId"] for r in rules) == CLIENTS
    for rule in rules:
        assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", port, port)
        assert rule.inputs["securityGroupId"] == group.id
        assert not {"cidrIpv4", "cidrIpv6", "prefixListId"} & rule.inputs.keys()
    assert not plan.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")


@pytest.mark.parametrize("value", [None, "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234",
                                   pulumi.Output.from_input("alias/unknown-until-deploy")])
def test_key_arns_and_unknown_values_pass(value):
    check_kms_key_arn("kms_key_arn", value)


def test_deny_insecure_transport_statement():
    assert deny_insecure_transport("s3", ["arn:aws:s3:::b"]) == {
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::b"], "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def test_access_policy_adds_the_key_statement_only_with_a_key():
    def program():
        pulumi.export("plain", access_policy_json([("Q", ["sqs:SendMessage"], "arn:q")], None, ["kms:Decrypt"]))
        pulumi.export("keyed", access_policy_json([("Q", ["sqs:SendMessage"], "arn:q")], "arn:k", ["kms:Decrypt"]))

    outputs = run_under_mocks(program).outputs
    assert json.loads(outputs["plain"]) == {"Version": "2012-10-17", "Statement": [
        {"Sid": "Q", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": ["arn:q"]}]}
    assert json.loads(outputs["keyed"])["Statement"][1] == {"Sid": "UseKey", "Effect": "Allow",
                                                           "Action": ["kms:Decrypt"], "Resource": ["arn:k"]}
