import pulumi
import pytest

from genai_platform.components.aws.data.redis import RedisCache, RedisCacheArgs
from genai_platform.mockcloud import run_under_mocks

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
CLIENTS = ["sg-0aaaaaaaaaaaaaaaa", "sg-0bbbbbbbbbbbbbbbb", "sg-0cccccccccccccccc"]
SUBNETS = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
TOKEN = "Xk3-9f!Qz#7m$Lr^Tw<8p>Vb"


def plan_cache(**overrides):
    base = {"vpc_id": "vpc-0123456789abcdef0", "subnet_ids": list(SUBNETS), "allowed_security_group_ids": list(CLIENTS),
            "auth_token": TOKEN}

    def program():
        cache = RedisCache("cache", RedisCacheArgs(**{**base, **overrides}))
        pulumi.export("primary", cache.primary_endpoint_address)
        pulumi.export("reader", cache.reader_endpoint_address)
        pulumi.export("port", cache.port)
        pulumi.export("security_group_id", cache.security_group_id)

    return run_under_mocks(program, config={"aws:region": "us-east-1"})


def test_children_exact_types_and_counts():
    assert plan_cache().type_counts() == {
        "genai:aws:RedisCache": 1,
        "aws:elasticache/subnetGroup:SubnetGroup": 1,
        "aws:ec2/securityGroup:SecurityGroup": 1,
        INGRESS: 3,
        GROUP: 1,
    }


def test_defaults_are_encrypted_single_valkey_node():
    plan = plan_cache()
    group = plan.one(GROUP).inputs
    assert (group["engine"], group["engineVersion"], group["nodeType"]) == ("valkey", "8.1", "cache.t4g.micro")
    assert group["atRestEncryptionEnabled"] is True
    assert group["transitEncryptionEnabled"] is True and group["transitEncryptionMode"] == "required"
    assert group["numCacheClusters"] == 1
    assert group["automaticFailoverEnabled"] is False and group["multiAzEnabled"] is False
    assert group["snapshotRetentionLimit"] == 1 and group["port"] == 6379
    assert group["autoMinorVersionUpgrade"] is True
    assert group["authToken"] == "[secret]"
    assert not {"userGroupIds", "kmsKeyId"} & group.keys()
    assert group["securityGroupIds"] == [plan.one("aws:ec2/securityGroup:SecurityGroup").id]
    subnet_group = plan.one("aws:elasticache/subnetGroup:SubnetGroup")
    assert subnet_group.inputs["subnetIds"] == SUBNETS
    assert group["subnetGroupName"] == subnet_group.outputs["name"]


def test_redis_engine_defaults_to_7_1():
    group = plan_cache(engine="redis").one(GROUP).inputs
    assert (group["engine"], group["engineVersion"]) == ("redis", "7.1")


@pytest.mark.parametrize(("nodes", "multi_az", "failover", "expected_multi_az"), [
    (2, None, True, True),
    (3, None, True, True),
    (2, False, True, False),
    (1, False, False, False),
])
def test_replicas_turn_on_failover_and_multi_az(nodes, multi_az, failover, expected_multi_az):
    group = plan_cache(num_cache_clusters=nodes, multi_az_enabled=multi_az).one(GROUP).inputs
    assert group["numCacheClusters"] == nodes
    assert group["automaticFailoverEnabled"] is failover and group["multiAzEnabled"] is expected_multi_az


def test_auth_token_is_a_secret_in_state():
    group = plan_cache(auth_token=TOKEN).one(GROUP).inputs
    assert group["authToken"] == "[secret]"
    secret_input = plan_cache(auth_token=pulumi.Output.secret(TOKEN)).one(GROUP).inputs
    assert secret_input["authToken"] == "[secret]"


def test_rbac_user_groups_and_customer_key():
    key = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    group = plan_cache(auth_token=None, user_group_ids=["rag-users"], kms_key_arn=key).one(GROUP).inputs
    assert group["userGroupIds"] == ["rag-users"] and group["kmsKeyId"] == key
    assert "authToken" not in group


@pytest.mark.parametrize("protect", [True, False])
def test_protect_applies_to_the_replication_group_only(protect):
    plan = plan_cache(protect=protect)
    assert plan.one(GROUP).protect is protect
    assert not any(r.protect for r in plan.resources if r.type != GROUP)


def test_outputs_are_the_tls_endpoints():
    outputs = plan_cache(num_cache_clusters=2).outputs
    assert outputs["primary"].startswith("master.") and outputs["primary"].endswith(".use1.cache.amazonaws.com")
    assert outputs["reader"].startswith("replica.")
    assert outputs["port"] == 6379 and outputs["security_group_id"].startswith("sg-")


@pytest.mark.parametrize(("overrides", "message"), [
    ({"multi_az_enabled": True},
     "multi_az_enabled=True needs at least 2 nodes, got num_cache_clusters=1: set num_cache_clusters=2 or more, "
     "or leave multi_az_enabled unset."),
    ({"num_cache_clusters": 0},
     "num_cache_clusters=0 is out of range: use 1 to 6 (a primary and up to 5 replicas)."),
    ({"num_cache_clusters": 7},
     "num_cache_clusters=7 is out of range: use 1 to 6 (a primary and up to 5 replicas)."),
    ({"snapshot_retention_limit": 36}, "snapshot_retention_limit=36 is out of range: use 0 to 35 (days)."),
    ({"subnet_ids": []}, "subnet_ids=[] is empty: pass the private or isolated subnet ids of the VPC."),
    ({"allowed_security_group_ids": []},
     "allowed_security_group_ids=[] is empty: pass the security groups of the clients "
     "(e.g. the EKS node or ECS task security group)."),
    ({"engine": "memcached"}, "engine='memcached' is not an engine this component runs: use 'valkey' or 'redis'."),
    ({"engine_version": "6.2"},
     "engine_version='6.2' is not a supported valkey version: use major.minor 7.2 or later, e.g. '8.1'."),
    # Valkey on ElastiCache starts at 7.2: CreateReplicationGroup rejects valkey 7.0 and 7.1.
    ({"engine_version": "7.1"},
     "engine_version='7.1' is not a supported valkey version: use major.minor 7.2 or later, e.g. '8.1'."),
    ({"engine": "redis", "engine_version": "7"},
     "engine_version='7' is not a supported redis version: use major.minor 7.0 or later, e.g. '7.1'."),
    ({"node_type": "t4g.micro"},
     "node_type='t4g.micro' is not an ElastiCache node type: use a 'cache.' type such as 'cache.t4g.micro'."),
    ({"auth_token": None},
     "neither auth_token nor user_group_ids is set: pass an auth_token (a Pulumi secret) or RBAC "
     "user_group_ids, or set allow_unauthenticated=True to rely on the security group alone."),
    ({"auth_token": TOKEN, "user_group_ids": ["rag-users"]},
     "auth_token and user_group_ids are both set: ElastiCache takes one authentication mode; "
     "pass auth_token for one shared password or user_group_ids for per-user RBAC."),
    ({"auth_token": "short"},
     "auth_token (length 5) is not a valid ElastiCache AUTH token: use 16-128 letters, digits or the specials "
     "! & # $ ^ < > -."),
    ({"auth_token": "has a space and @ sign in it"},
     "auth_token (length 28) is not a valid ElastiCache AUTH token: use 16-128 letters, digits or the specials "
     "! & # $ ^ < > -."),
    ({"kms_key_arn": "1111-2222"},
     "kms_key_arn='1111-2222' is not a KMS key ARN: pass arn:aws:kms:<region>:<account>:key/<key-id> "
     "(IAM policies cannot name a key by alias or bare id)."),
])
def test_impossible_arguments_are_refused_with_the_fix(overrides, message):
    with pytest.raises(ValueError) as error:
        plan_cache(**overrides)
    assert str(error.value) == message


@pytest.mark.parametrize(("engine", "version"), [("valkey", "7.2"), ("valkey", "8.0"), ("redis", "7.0")])
def test_oldest_supported_versions_are_accepted(engine, version):
    group = plan_cache(engine=engine, engine_version=version).one(GROUP).inputs
    assert (group["engine"], group["engineVersion"]) == (engine, version)


def plan_named(name):
    return run_under_mocks(lambda: RedisCache(name, RedisCacheArgs(
        vpc_id="vpc-0123456789abcdef0", subnet_ids=list(SUBNETS), allowed_security_group_ids=list(CLIENTS),
        auth_token=TOKEN)))


def test_longest_name_whose_auto_named_group_id_fits_40_characters():
    name = "staging-eu-west-1-rag-cach"  # 26 characters: + "-cache" + "-" + 7 hex = 40
    group = plan_named(name).one(GROUP)
    assert len(group.outputs["replicationGroupId"]) == 40


@pytest.mark.parametrize(("name", "message"), [
    # Pulumi auto-names the replication group "<name>-cache-<7 hex>"; AWS caps the id at 40 characters, and
    # the provider only refuses it at `pulumi preview`, which the offline plan never runs.
    ("staging-eu-west-1-rag-cache", "name='staging-eu-west-1-rag-cache' has 27 characters, too many for the "
     "ElastiCache replication group id named 'staging-eu-west-1-rag-cache-cache-' plus 7 random characters "
     "(at most 40): use a component name of at most 26 characters."),
    ("rag_cache", "name='rag_cache' cannot start an ElastiCache replication group id: use letters, digits and single "
     "hyphens, starting with a letter and not ending with a hyphen."),
    ("1-cache", "name='1-cache' cannot start an ElastiCache replication group id: use letters, digits and single "
     "hyphens, starting with a letter and not ending with a hyphen."),
    ("rag--cache", "name='rag--cache' cannot start an ElastiCache replication group id: use letters, digits and "
     "single hyphens, starting with a letter and not ending with a hyphen."),
])
def test_component_names_that_cannot_name_the_replication_group_are_refused(name, message):
    with pytest.raises(ValueError) as error:
        plan_named(name)
    assert str(error.value) == message


def test_an_unauthenticated_cache_is_an_explicit_choice():
    group = plan_cache(auth_token=None, allow_unauthenticated=True).one(GROUP).inputs
    assert not {"authToken", "userGroupIds"} & group.keys()
    assert group["transitEncryptionEnabled"] is True
