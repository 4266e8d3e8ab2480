import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from genai_platform.stacks import config
from genai_platform.stacks.config import ConfigError, EnvConfig, load

ROOT = Path(__file__).resolve().parents[2]
FILE = "stacks/Pulumi.dev.yaml"
BASE = {"aws:region": "us-east-1", "gcp:project": "genai-platform-dev", "genai-platform:tier": "dev",
        "genai-platform:gcpBillingAccount": "01A2B3-C4D5E6-F7A8B9",
        "genai-platform:redisAuthToken": "a-long-enough-token"}


def load_with(**overrides):
    return load({**BASE, **{f"genai-platform:{k}": v for k, v in overrides.items()}}, "dev", FILE)


@pytest.mark.parametrize(("tier", "expected"), [
    ("dev", {"az_count": 2, "nat_strategy": "single", "chat_model_min_instances": 0, "postgres_multi_az": False,
             "protect_stateful": False, "api_replicas": 1, "cloud_run_min_instances": 0, "redis_node_count": 1}),
    ("staging", {"az_count": 3, "nat_strategy": "single", "chat_model_min_instances": 0, "postgres_multi_az": True,
                 "protect_stateful": True, "api_replicas": 2, "cloud_run_min_instances": 0, "redis_node_count": 2}),
    ("prod", {"az_count": 3, "nat_strategy": "one_per_az", "chat_model_min_instances": 1, "postgres_multi_az": True,
              "protect_stateful": True, "api_replicas": 3, "cloud_run_min_instances": 1, "redis_node_count": 2}),
])
def test_tier_presets(tier, expected):
    settings = load_with(tier=tier)
    assert {key: getattr(settings, key) for key in expected} == expected


def test_overrides_are_parsed_from_engine_strings():
    settings = load_with(azCount="3", postgresMultiAz="true", interfaceEndpoints='["sts"]')
    assert (settings.az_count, settings.postgres_multi_az, settings.interface_endpoints) == (3, True, ["sts"])
    assert settings.tags == {"Environment": "dev"}


@pytest.mark.parametrize(("overrides", "message"), [
    ({"azCount": "three"}, "stacks/Pulumi.dev.yaml: genai-platform:azCount = 'three' is invalid: use a whole number."),
    ({"azCount": "9"}, "stacks/Pulumi.dev.yaml: genai-platform:azCount = 9 is invalid: use a whole number from 2 to 6."),
    ({"postgresMultiAz": "yes"},
     "stacks/Pulumi.dev.yaml: genai-platform:postgresMultiAz = 'yes' is invalid: use true or false."),
    ({"natStrategy": "double"}, "stacks/Pulumi.dev.yaml: genai-platform:natStrategy = 'double' is invalid: "
                                "use one of none, single, one_per_az."),
    ({"vpcCidr": "10.10.0.0/33"}, "stacks/Pulumi.dev.yaml: genai-platform:vpcCidr = '10.10.0.0/33' is invalid: use an "
                                  "IPv4 network in CIDR notation with the host bits zero, e.g. 10.10.0.0/16."),
    ({"vpcCidr": "8.8.0.0/16"}, "stacks/Pulumi.dev.yaml: genai-platform:vpcCidr = '8.8.0.0/16' is invalid: use a "
                                "private (RFC 1918) range such as 10.10.0.0/16."),
    ({"vpcCidr": "10.10.0.0/24"}, "stacks/Pulumi.dev.yaml: genai-platform:vpcCidr = '10.10.0.0/24' is invalid: use a "
                                  "prefix from /16 to /23."),
    ({"eksServiceCidr": "10.10.128.0/17"},
     "stacks/Pulumi.dev.yaml: genai-platform:eksServiceCidr = '10.10.128.0/17' is invalid: it overlaps "
     "genai-platform:vpcCidr = 10.10.0.0/16; pick a range outside the VPC, e.g. 172.20.0.0/16."),
    ({"ragLlmMaxReplicas": "3"}, "stacks/Pulumi.dev.yaml: genai-platform:ragLlmMaxReplicas = 3 is greater than "
                                 "genai-platform:gpuMaxGpus = 1: lower genai-platform:ragLlmMaxReplicas or raise "
                                 "genai-platform:gpuMaxGpus."),
    ({"chatModelMinInstances": "2"}, "stacks/Pulumi.dev.yaml: genai-platform:chatModelMinInstances = 2 is greater "
                                     "than genai-platform:chatModelMaxInstances = 1: lower "
                                     "genai-platform:chatModelMinInstances or raise genai-platform:chatModelMaxInstances."),
    ({"ragLlmAwakeHours": '["0 8 * * 1-5"]'}, "stacks/Pulumi.dev.yaml: genai-platform:ragLlmAwakeHours = "
                                              '["0 8 * * 1-5"] is invalid: use [<cron start>, <cron end>, '
                                              "<IANA time zone>], or [] for no window."),
    ({"azcount": "3"}, "stacks/Pulumi.dev.yaml: genai-platform:azcount = '3' is invalid: unknown key; remove it or fix "
                       "the name (did you mean genai-platform:azCount?)."),
    ({"interfaceEndpoints": "sts"}, "stacks/Pulumi.dev.yaml: genai-platform:interfaceEndpoints = 'sts' is invalid: use "
                                    "a YAML list of strings, e.g. [a, b]."),
    ({"eksPublicAccessCidrs": '["0.0.0.0/0"]'},
     "stacks/Pulumi.dev.yaml: genai-platform:eksPublicAccessCidrs = [\"0.0.0.0/0\"] is invalid: item '0.0.0.0/0': name "
     "the office or VPN ranges that need the API; 0.0.0.0/0 opens the cluster API to the internet."),
    ({"flowLogRetentionDays": "10"}, "stacks/Pulumi.dev.yaml: genai-platform:flowLogRetentionDays = 10 is invalid: use "
                                     "one of 1, 3, 5, 7, 14, 30, 60, 90"),
    ({"releaseTag": "latest"}, "stacks/Pulumi.dev.yaml: genai-platform:releaseTag = 'latest' is invalid: use a pinned "
                               "image tag such as 1.4.2 or a git SHA (not 'latest')."),
    ({"redisAuthToken": "short"}, "stacks/Pulumi.dev.yaml: genai-platform:redisAuthToken = [secret] is invalid: use 16 "
                                  "to 128 letters, digits or !&#$^<>- (ElastiCache's AUTH rules)."),
    ({"tier": "qa"}, "stacks/Pulumi.dev.yaml: genai-platform:tier = 'qa' is invalid: use one of dev, staging, prod."),
    ({"alertEmails": "[]"}, "stacks/Pulumi.dev.yaml: genai-platform:alertEmails = [] is invalid: name at least one "
                            "address."),
])
def test_each_wrong_value_gives_one_exact_message(overrides, message):
    with pytest.raises(ConfigError) as error:
        load_with(**overrides)
    assert str(error.value).startswith(message)


def test_missing_required_keys_say_how_to_set_them():
    with pytest.raises(ConfigError, match=re.escape(
            "stacks/Pulumi.dev.yaml: genai-platform:redisAuthToken is not set: add it to the file with "
            "`pulumi config set --secret genai-platform:redisAuthToken <value>`.")):
        load({k: v for k, v in BASE.items() if not k.endswith("redisAuthToken")}, "dev", FILE)
    with pytest.raises(ConfigError, match=re.escape(
            "stacks/Pulumi.dev.yaml: genai-platform:tier is not set: add `genai-platform:tier: dev`")):
        load({k: v for k, v in BASE.items() if not k.endswith(":tier")}, "dev", FILE)


def test_secret_values_stay_secret_outputs():
    assert load_with().redis_auth_token.is_secret  # an Output, never a plain str


def test_settings_and_env_config_fields_agree():
    fields = {f.name for f in dataclasses.fields(EnvConfig)} - {"stack", "aws_region", "gcp_project", "gcp_region"}
    assert fields == {config.snake_case(s.key) for s in config.SETTINGS}


def test_pulumi_yaml_declares_exactly_the_keys_without_a_preset():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    required = {key for key, s in config.declared_keys().items() if s.presets is None}
    assert set(declared) == required
    for key, spec in declared.items():
        setting = config.declared_keys()[key]
        assert spec["type"] == setting.kind and spec["description"]
        assert spec.get("secret", False) == setting.secret


def test_every_preset_passes_its_own_check():
    for tier in config.TIERS:
        for setting in config.SETTINGS:
            value = setting.preset(tier)
            if value is not None and setting.check:
                assert setting.check(value) is None, (tier, setting.key)


def test_readme_lists_every_setting_with_its_presets():
    assert config.markdown_table() in (ROOT / "README.md").read_text()


def test_eks_admin_roles_must_be_role_arns():
    assert load_with(eksAdminRoleArns='["arn:aws:iam::123456789012:role/platform-admin"]').eks_admin_role_arns == [
        "arn:aws:iam::123456789012:role/platform-admin"]
    with pytest.raises(ConfigError, match=re.escape(
            "stacks/Pulumi.dev.yaml: genai-platform:eksAdminRoleArns = [\"arn:aws:iam::123456789012:user/alice\"] is "
            "invalid: item 'arn:aws:iam::123456789012:user/alice': use the form arn:aws:iam::<account>:role/<name>.")):
        load_with(eksAdminRoleArns='["arn:aws:iam::123456789012:user/alice"]')


@pytest.mark.parametrize(("overrides", "message"), [
    ({"aws:regoin": "us-east-1"}, "aws:regoin = 'us-east-1' is invalid: unknown key; remove it or fix the name (did you "
                                  "mean aws:region?)."),
    ({"gpc:project": "x"}, "gpc:project = 'x' is invalid: unknown namespace 'gpc'; remove it or fix the name (did you "
                           "mean gcp:project?)."),
    ({"kubernetes:context": "x"}, "kubernetes:context = 'x' is invalid: unknown namespace 'kubernetes'; remove it or "
                                  "fix the name (the program reads genai-platform, aws, gcp, pulumi keys)."),
    ({"aws:maxRetries": "three"}, "aws:maxRetries = 'three' is invalid: the provider reads a whole number."),
    ({"aws:insecure": "yes"}, "aws:insecure = 'yes' is invalid: the provider reads a boolean: use true or false."),
    ({"aws:region": "None"}, "aws:region = 'None' is invalid: use an AWS region, e.g. us-east-1."),
    ({"gcp:project": "None"}, "gcp:project = 'None' is invalid: use the form my-project-123 (the GCP project id)."),
    ({"genai-platform:azCount": "1_000"}, "genai-platform:azCount = '1_000' is invalid: use a whole number."),
    ({"genai-platform:azCount": " 3"}, "genai-platform:azCount = ' 3' is invalid: use a whole number."),
    ({"genai-platform:alertEmails": '["a@example.com", "a@example.com"]'},
     "genai-platform:alertEmails = [\"a@example.com\", \"a@example.com\"] is invalid: list each item once "
     "('a@example.com' appears twice)."),
    ({"genai-platform:releaseTag": "v" * 500}, "genai-platform:releaseTag = '" + "v" * 99 + "... (502 characters) is "
                                               "invalid: use a pinned image tag"),
    ({"genai-platform:releaseTag": "1.0\n2"}, "genai-platform:releaseTag = '1.0\\n2' is invalid: use a pinned image tag"),
])
def test_keys_and_values_the_engine_or_providers_would_refuse(overrides, message):
    with pytest.raises(ConfigError) as error:
        load({**BASE, **overrides}, "dev", FILE)
    assert str(error.value).startswith(f"{FILE}: {message}")


def test_provider_and_engine_keys_the_program_does_not_use_are_accepted():
    settings = load({**BASE, "aws:maxRetries": "5", "aws:skipMetadataApiCheck": "true", "pulumi:tags": "{}",
                     "gcp:region": "us-central1"}, "dev", FILE)
    assert (settings.aws_region, settings.gcp_region) == ("us-east-1", "us-central1")
