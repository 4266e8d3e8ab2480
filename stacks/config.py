"""Typed environment config: tier presets plus per-key overrides from ``Pulumi.<env>.yaml``.

Every setting is declared once in :data:`SETTINGS` (key, type, description, preset per tier,
check); ``Pulumi.yaml`` declares the same keys for the Pulumi CLI (a test keeps them in sync).
A wrong value stops the program before any resource is registered, with one
:class:`ConfigError` naming the file, the key, the value (elided past :data:`MAX_SHOWN` characters) and the fix.
Keys of other namespaces must be ones the providers read (:mod:`genai_platform.stacks.provider_keys`), with a "did you mean"
for a typo in the key or the namespace.
"""

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from genai_platform.components.aws.network.cidr import MAX_VPC_PREFIX, MIN_VPC_PREFIX
from genai_platform.components.aws.limits import LOG_RETENTION_DAYS
from genai_platform.stacks import provider_keys

PROJECT = "genai-platform"
TIERS = ("dev", "staging", "prod")


class ConfigError(pulumi.RunError):
    """A bad config value. ``pulumi.RunError`` makes a real ``pulumi up`` print the message without a traceback."""


@dataclass(frozen=True)
class Setting:
    """One config key of the project namespace."""

    key: str
    kind: str
    """``string``, ``integer``, ``boolean`` or ``array`` (of strings): the Pulumi.yaml config types."""
    description: str
    presets: Any
    """One value for every tier, or a ``{tier: value}`` dict. ``None``: no default."""
    check: Callable[[Any], str | None] | None = None
    """Returns the fix when the value is wrong, ``None`` when it is fine."""
    secret: bool = False

    def preset(self, tier: str) -> Any:
        return self.presets[tier] if isinstance(self.presets, dict) else self.presets


def _one_of(*allowed: Any) -> Callable[[Any], str | None]:
    return lambda value: None if value in allowed else f"use one of {', '.join(map(str, allowed))}"


def _between(low: int, high: int) -> Callable[[Any], str | None]:
    return lambda value: None if low <= value <= high else f"use a whole number from {low} to {high}"


def _cidr_problem(value: str) -> str | None:
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        return "use an IPv4 network in CIDR notation with the host bits zero, e.g. 10.10.0.0/16"
    return None


def _vpc_cidr(value: str) -> str | None:
    problem = _cidr_problem(value)
    if problem:
        return problem
    network = ipaddress.IPv4Network(value)
    if not network.is_private:
        return "use a private (RFC 1918) range such as 10.10.0.0/16"
    if not MIN_VPC_PREFIX <= network.prefixlen <= MAX_VPC_PREFIX:
        return f"use a prefix from /{MIN_VPC_PREFIX} to /{MAX_VPC_PREFIX}"
    return None


def _each(check: Callable[[Any], str | None]) -> Callable[[list], str | None]:
    def check_all(values: list) -> str | None:
        for item in values:
            problem = check(item)
            if problem:
                return f"item {elide(repr(item))}: {problem}"
        return None

    return check_all


def _pattern(regex: str, example: str) -> Callable[[Any], str | None]:
    return lambda value: None if re.fullmatch(regex, value) else f"use the form {example}"


def _public_cidr(value: str) -> str | None:
    problem = _cidr_problem(value)
    if problem:
        return problem
    if ipaddress.IPv4Network(value).prefixlen == 0:
        return "name the office or VPN ranges that need the API; 0.0.0.0/0 opens the cluster API to the internet"
    return None


def _slo_percent(value: str) -> str | None:
    try:
        percent = float(value)
    except ValueError:
        percent = -1.0
    return None if 90 <= percent < 100 else "use a percentage from 90 to below 100, e.g. \"99.5\""


_EMAIL = r"[^@\s]+@[^@\s]+\.[a-z]{2,}"
_INSTANCE_TYPE = r"[a-z][a-z0-9-]*\.[0-9]*(nano|micro|small|medium|large|xlarge|metal)"

SETTINGS: tuple[Setting, ...] = (
    Setting("tier", "string", "Environment tier whose presets apply: dev, staging or prod.", None, _one_of(*TIERS)),
    # Network
    Setting("vpcCidr", "string", "IPv4 range of the VPC (private, /16 to /23).",
            {"dev": "10.10.0.0/16", "staging": "10.20.0.0/16", "prod": "10.30.0.0/16"}, _vpc_cidr),
    Setting("azCount", "integer", "Availability zones to spread subnets over.", {"dev": 2, "staging": 3, "prod": 3},
            _between(2, 6)),
    Setting("natStrategy", "string", "NAT gateways: none, single or one_per_az.",
            {"dev": "single", "staging": "single", "prod": "one_per_az"}, _one_of("none", "single", "one_per_az")),
    Setting("natType", "string", "NAT in each NAT zone: gateway (managed) or instance (a t4g.nano, ~$29/month less).",
            {"dev": "instance", "staging": "gateway", "prod": "gateway"}, _one_of("gateway", "instance")),
    Setting("flowLogRetentionDays", "integer", "Retention of VPC flow logs in days.",
            {"dev": 14, "staging": 30, "prod": 365}, _one_of(*LOG_RETENTION_DAYS)),
    Setting("interfaceEndpoints", "array", "Interface VPC endpoints by service suffix (ecr.api, sts, ...).",
            {"dev": [], "staging": [], "prod": ["ecr.api", "ecr.dkr", "sts", "logs", "secretsmanager"]},
            _each(_pattern(r"[a-z0-9-]+(\.[a-z0-9-]+)*", "ecr.api"))),
    # EKS
    Setting("eksServiceCidr", "string", "Kubernetes service IP range; must not overlap the VPC.", "172.20.0.0/16",
            _cidr_problem),
    Setting("eksPublicAccessCidrs", "array",
            "CIDRs allowed to reach the EKS API over the internet; empty keeps the endpoint private.", [],
            _each(_public_cidr)),
    Setting("eksAdminRoleArns", "array",
            "IAM roles granted cluster-admin through EKS access entries (the deployer is admin regardless).", [],
            _each(_pattern(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", "arn:aws:iam::<account>:role/<name>"))),
    Setting("ciGithubRepository", "string",
            "GitHub repository (owner/name) whose deploy jobs the in-VPC CodeBuild runner takes; empty: no runner.", "",
            lambda v: None if v == "" or re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", v) else "use owner/name"),
    Setting("ciGithubConnectionArn", "string",
            "CodeConnections connection to GitHub the runner registers through (created once in the console).", "",
            lambda v: None if v == "" or re.fullmatch(
                r"arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/[0-9a-f-]+", v)
            else "use arn:aws:codeconnections:<region>:<account>:connection/<id> or leave it empty"),
    Setting("systemNodeInstanceTypes", "array", "Instance types of the general-purpose node group.",
            {"dev": ["t3.medium"], "staging": ["t3.large"], "prod": ["m6i.large"]},
            _each(_pattern(_INSTANCE_TYPE, "t3.medium"))),
    Setting("systemNodeCapacityType", "string", "ON_DEMAND or SPOT for the general-purpose node group.",
            {"dev": "SPOT", "staging": "ON_DEMAND", "prod": "ON_DEMAND"}, _one_of("ON_DEMAND", "SPOT")),
    Setting("systemNodesMin", "integer", "Minimum general-purpose nodes.", {"dev": 2, "staging": 2, "prod": 3},
            _between(1, 100)),
    Setting("systemNodesMax", "integer", "Maximum general-purpose nodes.", {"dev": 3, "staging": 4, "prod": 6},
            _between(1, 100)),
    Setting("systemNodeRootVolumeGib", "integer",
            "Encrypted gp3 root volume of each general-purpose node in GiB (images and logs; GPU images land on "
            "Karpenter's 200 GiB nodes).", {"dev": 30, "staging": 50, "prod": 50}, _between(20, 16384)),
    # GPU capacity: the Karpenter GPU NodePool. Its limits are the GPU bill's ceiling (priced by the plan).
    Setting("gpuInstanceFamilies", "array", "GPU instance families Karpenter may launch (g6 L4, g6e L40S, g5 A10G).",
            {"dev": ["g6", "g5"], "staging": ["g6", "g5"], "prod": ["g6", "g6e", "g5"]},
            _each(_one_of("g4dn", "g5", "g6", "g6e", "gr6"))),
    Setting("gpuCapacityType", "string", "ON_DEMAND or SPOT for the GPU pool.",
            {"dev": "SPOT", "staging": "SPOT", "prod": "ON_DEMAND"}, _one_of("ON_DEMAND", "SPOT")),
    Setting("gpuMaxGpus", "integer", "GPU ceiling of the GPU pool (NodePool limits; the pool is empty when idle).",
            {"dev": 1, "staging": 2, "prod": 4}, _between(1, 64)),
    Setting("gpuMaxVcpus", "integer", "vCPU ceiling over all GPU nodes (NodePool limits).",
            {"dev": 8, "staging": 16, "prod": 32}, _between(4, 1024)),
    Setting("gpuMaxMemoryGib", "integer", "Memory ceiling in GiB over all GPU nodes (NodePool limits).",
            {"dev": 32, "staging": 64, "prod": 64}, _between(16, 8192)),
    Setting("burstMaxVcpus", "integer", "vCPU ceiling of the general-burst pool (Spot first) that takes CPU overflow.",
            {"dev": 4, "staging": 8, "prod": 16}, _between(2, 1024)),
    Setting("burstMaxMemoryGib", "integer", "Memory ceiling in GiB of the general-burst pool.",
            {"dev": 16, "staging": 32, "prod": 64}, _between(4, 8192)),
    Setting("chatModelMinInstances", "integer",
            "Warm Cloud Run instances (one L4 each) of the chat model service; 0 scales to zero.",
            {"dev": 0, "staging": 0, "prod": 1}, _between(0, 10)),
    Setting("chatModelMaxInstances", "integer", "Most Cloud Run L4 instances of the chat model service.",
            {"dev": 1, "staging": 2, "prod": 4}, _between(1, 100)),
    Setting("chatModelPath", "string", "Folder of the chat model's weights in its GCS bucket (mounted at /models).",
            "google/gemma-2-9b-it", _pattern(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", "org/model")),
    Setting("ragModelPath", "string", "Folder of the RAG LLM's weights in the model store (S3 key prefix).",
            "mistralai/Mistral-7B-Instruct-v0.3", _pattern(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*", "org/model")),
    Setting("ragModelSizeGib", "integer", "Size of the RAG LLM's weights in GiB (sizes the startup probe).",
            15, _between(1, 160)),
    Setting("ragMaxModelLen", "integer", "Longest prompt + answer of the RAG LLM in tokens (vLLM --max-model-len).",
            8192, _between(256, 131072)),
    Setting("ragGpuMemoryUtilizationPercent", "integer", "Share of GPU memory vLLM may take (--gpu-memory-utilization).",
            90, _between(50, 95)),
    Setting("ragGpusPerReplica", "integer", "GPUs per vLLM replica (= its tensor parallel size).", 1, _between(1, 8)),
    Setting("ragLlmMinReplicas", "integer", "Fewest vLLM replicas; 0 idles at zero GPU nodes outside working hours.",
            {"dev": 0, "staging": 0, "prod": 1}, _between(0, 64)),
    Setting("ragLlmMaxReplicas", "integer", "Most vLLM replicas (KEDA's ceiling).",
            {"dev": 1, "staging": 2, "prod": 4}, _between(1, 64)),
    Setting("ragLlmAwakeHours", "array",
            "With ragLlmMinReplicas 0: cron start, cron end and time zone of a window one vLLM replica runs; empty: "
            "none (the GPU idles at zero until woken by hand; a window's GPU hours are not in the estimate).",
            {"dev": [], "staging": ["0 8 * * 1-5", "0 19 * * 1-5", "UTC"], "prod": ["0 8 * * 1-5", "0 19 * * 1-5", "UTC"]},
            lambda value: None if len(value) in (0, 3)
            else "use [<cron start>, <cron end>, <IANA time zone>], or [] for no window"),
    # Data
    Setting("postgresInstanceClass", "string", "RDS instance class of the Postgres databases.",
            {"dev": "db.t4g.micro", "staging": "db.t4g.medium", "prod": "db.r7g.large"},
            _pattern(r"db\." + _INSTANCE_TYPE, "db.t4g.micro")),
    Setting("postgresMultiAz", "boolean", "Run Postgres with a synchronous standby in a second zone.",
            {"dev": False, "staging": True, "prod": True}),
    Setting("postgresBackupRetentionDays", "integer", "Days of automated Postgres backups (point-in-time restore).",
            {"dev": 1, "staging": 7, "prod": 30}, _between(1, 35)),
    Setting("postgresAllocatedStorageGb", "integer", "Initial Postgres storage in GB.",
            {"dev": 20, "staging": 50, "prod": 100}, _between(20, 65536)),
    Setting("postgresMaxAllocatedStorageGb", "integer", "Storage autoscaling ceiling in GB.",
            {"dev": 100, "staging": 200, "prod": 1000}, _between(20, 65536)),
    Setting("postgresPerformanceInsights", "boolean", "Enable Performance Insights on Postgres.",
            {"dev": False, "staging": False, "prod": True}),
    Setting("postgresSharedInstance", "boolean",
            "Host the rag and tabular databases on one Postgres instance (own database, user and secret each).",
            {"dev": True, "staging": False, "prod": False}),
    Setting("redisNodeType", "string", "ElastiCache node type of the RAG cache.",
            {"dev": "cache.t4g.micro", "staging": "cache.t4g.small", "prod": "cache.r7g.large"},
            _pattern(r"cache\." + _INSTANCE_TYPE, "cache.t4g.micro")),
    Setting("redisNodeCount", "integer", "Redis nodes; more than one turns on failover and Multi-AZ.",
            {"dev": 1, "staging": 2, "prod": 2}, _between(1, 6)),
    # Services
    Setting("releaseTag", "string", "Image tag every service deploys (pinned; never 'latest').", "0.1.0",
            lambda v: None if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", v) and v != "latest"
            else "use a pinned image tag such as 1.4.2 or a git SHA (not 'latest')"),
    Setting("deployByDigest", "boolean",
            "Run the Kubernetes workloads by the digest ECR holds for releaseTag (push the images before deploying).",
            False),
    Setting("apiReplicas", "integer", "Minimum replicas of each API (the HPA's floor).",
            {"dev": 1, "staging": 2, "prod": 3}, _between(1, 50)),
    Setting("apiMaxReplicas", "integer", "Maximum replicas of each API (the HPA's ceiling).",
            {"dev": 3, "staging": 4, "prod": 10}, _between(1, 200)),
    Setting("fargateMinTasks", "integer", "Minimum Fargate tasks of the tabular API.",
            {"dev": 1, "staging": 2, "prod": 2}, _between(1, 100)),
    Setting("fargateMaxTasks", "integer", "Maximum Fargate tasks of the tabular API.",
            {"dev": 2, "staging": 4, "prod": 10}, _between(1, 100)),
    Setting("fargateSpot", "boolean", "Run the tabular Fargate tasks on Fargate Spot (~70% cheaper, may be interrupted).",
            {"dev": True, "staging": False, "prod": False}),
    Setting("cloudRunMinInstances", "integer", "Minimum Cloud Run instances of the chat app (0 scales to zero).",
            {"dev": 0, "staging": 0, "prod": 1}, _between(0, 100)),
    Setting("cloudRunMaxInstances", "integer", "Maximum Cloud Run instances of the chat app.",
            {"dev": 3, "staging": 5, "prod": 20}, _between(1, 1000)),
    Setting("certificateArn", "string", "ACM certificate for HTTPS on the load balancers; empty serves plain HTTP.",
            "", lambda v: None if v == "" or re.fullmatch(r"arn:aws:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+", v)
            else "use an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>) or leave it empty"),
    # Disaster recovery and access trails
    Setting("crossRegionDr", "boolean",
            "Replicate the documents and artifacts buckets and the Postgres backups into drRegion.",
            {"dev": False, "staging": False, "prod": True}),
    Setting("drRegion", "string", "AWS region of the disaster-recovery copies (another region than aws:region).",
            "us-west-2", _pattern(r"[a-z]{2}(-gov)?-[a-z]+-\d", "us-west-2")),
    Setting("replicationTimeControl", "boolean",
            "S3 Replication Time Control on the DR replication: 99.99% of objects within 15 minutes, $0.015/GB.",
            False),
    Setting("s3AccessLogs", "boolean", "S3 server access logs of every bucket into the environment's log bucket.",
            {"dev": False, "staging": True, "prod": True}),
    Setting("accessLogRetentionDays", "integer", "Days S3 server access logs are kept.",
            {"dev": 30, "staging": 90, "prod": 365}, _between(1, 3650)),
    # Guard rails
    Setting("protectStateful", "boolean", "Deletion protection and Pulumi protect on databases, buckets and queues.",
            {"dev": False, "staging": True, "prod": True}),
    Setting("monthlyBudgetUsd", "integer", "AWS monthly budget in USD; the plan fails when the estimate exceeds it.",
            {"dev": 500, "staging": 1000, "prod": 3500}, _between(1, 10_000_000)),
    Setting("gcpMonthlyBudgetUsd", "integer", "GCP monthly budget in USD.", {"dev": 50, "staging": 100, "prod": 1300},
            _between(1, 10_000_000)),
    Setting("alertEmails", "array", "Who receives budget and alarm e-mails.", ["platform-oncall@example.com"],
            lambda v: "name at least one address" if not v else _each(_pattern(_EMAIL, "oncall@example.com"))(v)),
    Setting("gcpBillingAccount", "string", "GCP billing account the budget watches.", None,
            _pattern(r"[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}", "01A2B3-C4D5E6-F7A8B9")),
    # Observability
    Setting("availabilitySloPercent", "string", "Availability objective of every service in percent; alert "
            "thresholds derive from its error budget.", "99.5", _slo_percent),
    Setting("ragP95LatencyMs", "integer", "p95 latency objective of the RAG API in milliseconds.", 800,
            _between(50, 60_000)),
    Setting("chatP95LatencyMs", "integer", "p95 latency objective of the chat web app in milliseconds.", 5000,
            _between(50, 600_000)),
    Setting("traceSamplingPercent", "integer", "Share of traces the collector keeps and sends to X-Ray.",
            {"dev": 10, "staging": 10, "prod": 5}, _between(0, 100)),
    Setting("ecsOtlpLoadBalancer", "boolean", "Internal NLB (~$21/month) through which ECS tasks send OTLP to the "
            "collector; without it ECS tasks export no telemetry.", {"dev": False, "staging": True, "prod": True}),
    Setting("grafanaWorkspace", "boolean", "Create an Amazon Managed Grafana workspace (needs IAM Identity "
            "Center in the account).", {"dev": False, "staging": False, "prod": True}),
    Setting("redisAuthToken", "string", "AUTH token of the Redis cache (16-128 printable characters).", None,
            lambda v: None if 16 <= len(v) <= 128 and re.fullmatch(r"[!&#$^<>\-\w]+", v)
            else "use 16 to 128 letters, digits or !&#$^<>- (ElastiCache's AUTH rules)", secret=True),
)

_BY_KEY = {setting.key: setting for setting in SETTINGS}


@dataclass(frozen=True)
class EnvConfig:
    """The validated settings of one stack. Field names are the snake_case of the config keys."""

    stack: str
    aws_region: str
    gcp_project: str
    gcp_region: str
    tier: str
    vpc_cidr: str
    az_count: int
    nat_strategy: str
    nat_type: str
    flow_log_retention_days: int
    interface_endpoints: list[str]
    eks_service_cidr: str
    eks_public_access_cidrs: list[str]
    eks_admin_role_arns: list[str]
    ci_github_repository: str
    ci_github_connection_arn: str
    system_node_instance_types: list[str]
    system_node_capacity_type: str
    system_nodes_min: int
    system_nodes_max: int
    system_node_root_volume_gib: int
    gpu_instance_families: list[str]
    gpu_capacity_type: str
    gpu_max_gpus: int
    gpu_max_vcpus: int
    gpu_max_memory_gib: int
    burst_max_vcpus: int
    burst_max_memory_gib: int
    chat_model_min_instances: int
    chat_model_max_instances: int
    chat_model_path: str
    rag_model_path: str
    rag_model_size_gib: int
    rag_max_model_len: int
    rag_gpu_memory_utilization_percent: int
    rag_gpus_per_replica: int
    rag_llm_min_replicas: int
    rag_llm_max_replicas: int
    rag_llm_awake_hours: list[str]
    postgres_instance_class: str
    postgres_multi_az: bool
    postgres_backup_retention_days: int
    postgres_allocated_storage_gb: int
    postgres_max_allocated_storage_gb: int
    postgres_performance_insights: bool
    postgres_shared_instance: bool
    redis_node_type: str
    redis_node_count: int
    release_tag: str
    deploy_by_digest: bool
    api_replicas: int
    api_max_replicas: int
    fargate_min_tasks: int
    fargate_max_tasks: int
    fargate_spot: bool
    cloud_run_min_instances: int
    cloud_run_max_instances: int
    certificate_arn: str
    cross_region_dr: bool
    dr_region: str
    replication_time_control: bool
    s3_access_logs: bool
    access_log_retention_days: int
    protect_stateful: bool
    monthly_budget_usd: int
    gcp_monthly_budget_usd: int
    alert_emails: list[str]
    gcp_billing_account: str
    availability_slo_percent: str
    rag_p95_latency_ms: int
    chat_p95_latency_ms: int
    trace_sampling_percent: int
    ecs_otlp_load_balancer: bool
    grafana_workspace: bool
    redis_auth_token: pulumi.Output[str]

    @property
    def slo(self) -> "Slo":
        """The service level objectives the alert thresholds read."""
        return Slo(availability_percent=float(self.availability_slo_percent),
                   rag_p95_latency_ms=self.rag_p95_latency_ms, chat_p95_latency_ms=self.chat_p95_latency_ms)

    @property
    def tags(self) -> dict[str, str]:
        """Tags every component gets from the stack; ``Environment`` is the cost-allocation tag."""
        return {"Environment": self.stack}


@dataclass(frozen=True)
class Slo:
    """Service level objectives of one environment (docs/runbook.md, section 10)."""

    availability_percent: float
    rag_p95_latency_ms: int
    chat_p95_latency_ms: int

    @property
    def error_budget(self) -> float:
        """Share of requests allowed to fail: 0.005 for 99.5 %."""
        return round(1 - self.availability_percent / 100, 6)


# Pairs whose first value must not exceed the second: (min key, max key).
_RANGES = (
    ("systemNodesMin", "systemNodesMax"),
    ("chatModelMinInstances", "chatModelMaxInstances"),
    ("ragLlmMinReplicas", "ragLlmMaxReplicas"),
    ("ragLlmMaxReplicas", "gpuMaxGpus"),
    ("postgresAllocatedStorageGb", "postgresMaxAllocatedStorageGb"),
    ("apiReplicas", "apiMaxReplicas"),
    ("fargateMinTasks", "fargateMaxTasks"),
    ("cloudRunMinInstances", "cloudRunMaxInstances"),
)
_PROVIDER_KEYS = {"aws:region": "us-east-1", "gcp:project": None, "gcp:region": "europe-west4"}


def snake_case(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def load(config: Mapping[str, str], stack: str, config_file: str) -> EnvConfig:
    """Validate the flat Pulumi config of a stack (``{"genai-platform:tier": "dev", ...}``, string values).

    Raises :class:`ConfigError` for the first wrong value, naming ``config_file``.
    """

    def fail(key: str, value: Any, fix: str) -> ConfigError:
        return ConfigError(f"{config_file}: {key} = {_show(key, value)} is invalid: {fix}.")

    prefix = f"{PROJECT}:"
    for key, value in config.items():
        problem = _key_problem(key, value)
        if problem:
            raise fail(key, value, problem)
    own = {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)}

    tier_text = own.get("tier")
    if tier_text is None:
        raise ConfigError(f"{config_file}: {prefix}tier is not set: add `{prefix}tier: dev` (or staging, prod).")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        key = prefix + setting.key
        if setting.key in own:
            value = _parse(setting, own[setting.key], lambda fix: fail(key, own[setting.key], fix))
        else:
            value = setting.preset(values.get("tier", tier_text))
            if value is None:
                raise ConfigError(f"{config_file}: {key} is not set: add it to the file"
                                  + (f" with `pulumi config set --secret {key} <value>`." if setting.secret else "."))
        problem = setting.check(value) if setting.check else None
        if problem:
            raise fail(key, value, problem)
        values[setting.key] = value

    for low_key, high_key in _RANGES:
        if values[low_key] > values[high_key]:
            raise ConfigError(
                f"{config_file}: {prefix}{low_key} = {values[low_key]} is greater than {prefix}{high_key} = "
                f"{values[high_key]}: lower {prefix}{low_key} or raise {prefix}{high_key}."
            )
    vpc, services = ipaddress.IPv4Network(values["vpcCidr"]), ipaddress.IPv4Network(values["eksServiceCidr"])
    if vpc.overlaps(services):
        raise fail(prefix + "eksServiceCidr", values["eksServiceCidr"],
                   f"it overlaps {prefix}vpcCidr = {values['vpcCidr']}; pick a range outside the VPC, "
                   "e.g. 172.20.0.0/16")

    provider = {key: config.get(key, default) for key, default in _PROVIDER_KEYS.items()}
    if not provider["gcp:project"]:
        raise ConfigError(f"{config_file}: gcp:project is not set: add `gcp:project: <your GCP project id>`.")
    for key, check in _PROVIDER_CHECKS.items():
        problem = check(provider[key])
        if problem:
            raise fail(key, provider[key], problem)
    certificate_region = values["certificateArn"].split(":")[3] if values["certificateArn"] else provider["aws:region"]
    if certificate_region != provider["aws:region"]:
        raise fail(prefix + "certificateArn", values["certificateArn"],
                   f"the certificate is in {certificate_region} but the load balancers are in aws:region = "
                   f"{provider['aws:region']} (ACM certificates serve only their own region): request or import "
                   f"it in {provider['aws:region']}")
    values["redisAuthToken"] = pulumi.Output.secret(values["redisAuthToken"])
    return EnvConfig(
        stack=stack, aws_region=provider["aws:region"], gcp_project=provider["gcp:project"],
        gcp_region=provider["gcp:region"],
        **{snake_case(key): value for key, value in values.items()},
    )


def from_pulumi() -> EnvConfig:
    """The config of the stack being deployed (real ``pulumi up`` or the offline plan)."""
    from pulumi.runtime.config import CONFIG, get_config_env

    # All keys, not only the known ones: an unknown key must fail instead of being ignored.
    merged = {**get_config_env(), **CONFIG.get()}
    stack = pulumi.get_stack()
    return load(merged, stack, f"stacks/Pulumi.{stack}.yaml")


def _parse(setting: Setting, text: str, fail: Callable[[str], ConfigError]) -> Any:
    if setting.kind == "string":
        return text
    if setting.kind == "integer":
        # As strict as Go's strconv.Atoi: Python's int() would also take " 3", "1_000" and non-ASCII digits.
        if not re.fullmatch(r"[-+]?[0-9]{1,18}", text):
            raise fail("use a whole number")
        return int(text)
    if setting.kind == "boolean":
        if text not in ("true", "false"):
            raise fail("use true or false")
        return text == "true"
    try:
        items = json.loads(text)
    except json.JSONDecodeError:
        items = None
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise fail("use a YAML list of strings, e.g. [a, b]")
    repeated = next((item for index, item in enumerate(items) if item in items[:index]), None)
    if repeated is not None:
        # Each item becomes a resource named after it: two equal items are one URN twice.
        raise fail(f"list each item once ({elide(repr(repeated))} appears twice)")
    return items


MAX_SHOWN = 100
"""Characters of a bad value echoed in an error; the rest is elided so one line stays one line."""


def _show(key: str, value: Any) -> str:
    setting = _BY_KEY.get(key.split(":", 1)[-1]) if key.startswith(f"{PROJECT}:") else None
    if setting is not None and setting.secret:
        return "[secret]"
    if setting is not None and setting.kind == "array" and isinstance(value, str):
        try:
            value = json.loads(value)  # the engine's JSON text of a YAML list: show it as the list it is
        except json.JSONDecodeError:
            pass
    return elide(json.dumps(value) if isinstance(value, list) else repr(value))


def elide(text: str) -> str:
    """``text`` cut to :data:`MAX_SHOWN` characters (saying how long it was), control characters escaped."""
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    if len(text) <= MAX_SHOWN:
        return text
    return f"{text[:MAX_SHOWN]}... ({len(text)} characters)"


def _key_problem(key: str, value: str) -> str | None:
    """Why a key is not one the program or its providers read; ``None`` when it is."""
    namespace, _, name = key.partition(":")
    if namespace == PROJECT:
        if name in _BY_KEY:
            return None
        return _unknown(name, list(_BY_KEY), f"{PROJECT}:", "known keys are listed in the README's Configuration table")
    if namespace == provider_keys.ENGINE_NAMESPACE:
        return None
    if namespace in provider_keys.PROVIDERS:
        return _provider_key_problem(namespace, name, value)
    namespaces = [PROJECT, *provider_keys.PROVIDERS, provider_keys.ENGINE_NAMESPACE]
    close = difflib.get_close_matches(namespace, namespaces, n=1)
    hint = f"did you mean {close[0]}:{name}?" if close else f"the program reads {', '.join(namespaces)} keys"
    return f"unknown namespace {namespace!r}; remove it or fix the name ({hint})"


def _provider_key_problem(namespace: str, name: str, value: str) -> str | None:
    kinds = provider_keys.provider_keys(namespace)
    if name not in kinds:
        return _unknown(name, list(kinds), f"{namespace}:", f"the {namespace} provider reads no such key")
    if kinds[name] == "boolean" and value not in ("true", "false"):
        return "the provider reads a boolean: use true or false"
    if kinds[name] == "integer" and not re.fullmatch(r"-?[0-9]+", value):
        return "the provider reads a whole number"
    return None


def provider_problem(key: str, value: str) -> str | None:
    """Why a provider key (``aws:region``, ``gcp:project``...) of any project's stack file is wrong, as the
    platform's own are checked: a key the installed provider reads, of its type, and a region or project id the
    cloud knows. ``None`` for keys of other namespaces: another project's own keys are its business."""
    namespace, _, name = key.partition(":")
    if namespace not in provider_keys.PROVIDERS:
        return None
    problem = _provider_key_problem(namespace, name, value)
    check = _PROVIDER_CHECKS.get(key)
    return problem or (check(value) if check else None)


def _unknown(name: str, known: list[str], prefix: str, otherwise: str) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {prefix}{close[0]}?" if close else otherwise
    return f"unknown key; remove it or fix the name ({hint})"


def _aws_region(value: str) -> str | None:
    regions = provider_keys.aws_regions()
    if value in regions:
        return None
    close = difflib.get_close_matches(value, regions, n=3, cutoff=0.5)
    return "use an AWS region" + (f" such as {', '.join(close)}" if close else ", e.g. us-east-1")


_PROVIDER_CHECKS: dict[str, Callable[[str], str | None]] = {
    "aws:region": _aws_region,
    # GCP's own rules: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter.
    "gcp:project": _pattern(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", "my-project-123 (the GCP project id)"),
    "gcp:region": _pattern(r"[a-z]+-[a-z]+[0-9]+", "europe-west4"),
}


def declared_keys() -> dict[str, Setting]:
    """Settings by namespaced key, for the Pulumi.yaml consistency test and docs."""
    return {f"{PROJECT}:{setting.key}": setting for setting in SETTINGS}



def markdown_table() -> str:
    """The settings with their presets as a Markdown table (the README's copy is kept equal by a test)."""

    def show(value: Any) -> str:
        if value is None:
            return "*required*"
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, list):
            return "[" + ", ".join(value) + "]"
        return str(value) if value != "" else '""'

    rows = ["| key | type | dev | staging | prod | what it sets |", "|---|---|---|---|---|---|"]
    for setting in SETTINGS:
        presets = " | ".join(show(setting.preset(tier) if setting.presets is not None else None) for tier in TIERS)
        kind = setting.kind + (" (secret)" if setting.secret else "")
        rows.append(f"| `{setting.key}` | {kind} | {presets} | {setting.description} |")
    return "\n".join(rows) + "\n"
