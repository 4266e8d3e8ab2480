"""CloudRunService: a private-by-default Cloud Run service with its own service account, optionally on an L4 GPU."""

import re
from dataclasses import dataclass, field
from typing import Literal

import pulumi
from pulumi_gcp import cloudrunv2, organizations, projects, secretmanager, serviceaccount, storage

from genai_platform.components.credentials import credential_marker
from genai_platform.components.gcp.iam_members import check_members
from genai_platform.components.tagging import gcp_labels
from genai_platform.components.validation import check_range

Ingress = Literal["INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", "INGRESS_TRAFFIC_ALL"]
INGRESS_SETTINGS: tuple[str, ...] = Ingress.__args__

CPU_MEMORY_MIB: dict[int, tuple[int, int]] = {1: (128, 4096), 2: (128, 8192), 4: (2048, 16384), 6: (4096, 24576),
                                              8: (4096, 32768)}
"""Whole CPU counts Cloud Run accepts and the memory range (MiB) each allows. Fractional CPU is left out:
it forces a concurrency of 1 and request-based billing, which no web service here wants."""

GPU_MINIMUMS: dict[str, tuple[int, int]] = {"nvidia-l4": (4, 16384)}

GPU_REGIONS: dict[str, tuple[str, ...]] = {"nvidia-l4": (
    "asia-southeast1", "europe-west1", "europe-west4", "us-central1", "us-east4")}
"""Regions where Cloud Run offers each GPU (cloud.google.com/run/docs/configuring/services/gpu, "Supported
regions"); a service elsewhere fails at deploy time."""
"""Accelerator -> (minimum CPU, minimum memory MiB) Cloud Run requires next to it (one GPU per instance)."""

BASIC_ROLES = ("roles/owner", "roles/editor", "roles/viewer")
"""Primitive roles span every service in the project; a workload identity never needs them."""

RESERVED_ENV = ("PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION")
"""Variables Cloud Run sets itself and refuses in a revision."""

_SERVICE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$")
_ACCOUNT_ID = re.compile(r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
_CUSTOM_ROLE = re.compile(r"^(projects|organizations)/[^/]+/roles/[A-Za-z0-9_.]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET = re.compile(r"^([A-Za-z0-9_-]{1,255}|projects/[^/]+/secrets/[A-Za-z0-9_-]{1,255})$")
MAX_REQUEST_TIMEOUT_SECONDS = 3600
STARTUP_PROBE_LIMIT_SECONDS = {False: 600, True: 1800}
"""Cloud Run kills a container whose startup probe has not passed within failure_threshold x period
seconds; the ceiling is 600 s, 1800 s on a GPU (model weights take long to load)."""


@dataclass(frozen=True)
class SecretEnv:
    """An environment variable read from Secret Manager when an instance starts."""

    secret: str
    """Secret name in the service's project, or ``projects/<project>/secrets/<name>`` in another one."""

    version: str = "latest"
    """Secret version: ``latest`` (a new revision picks up rotations) or a number to pin one."""


@dataclass(frozen=True)
class GcsVolume:
    """A Cloud Storage bucket mounted into the container with Cloud Storage FUSE (gen2 execution environment)."""

    bucket: pulumi.Input[str]
    """Bucket name (``ModelBucket.bucket_name``). The service's account gets ``roles/storage.objectViewer`` on
    this bucket only (read-only mounts) before the first revision starts."""

    mount_path: str
    """Absolute path in the container, e.g. ``/models``."""


@dataclass
class CloudRunServiceArgs:
    """Arguments of :class:`CloudRunService`. Every default is the secure, cheap one."""

    image: pulumi.Input[str]
    """Container image, ideally pinned by digest (``...-docker.pkg.dev/<project>/<repo>/chat@sha256:...``);
    may be the output of an image build in the same stack."""

    region: str | None = None
    """Cloud Run region; default: the provider's ``gcp:region``. GPUs exist only in some regions
    (e.g. europe-west1, europe-west4, us-central1, us-east4, asia-southeast1)."""

    project: str | None = None
    """Project ID of the service and its service account; default: the provider's ``gcp:project``."""

    service_name: str | None = None
    """Cloud Run service name (lower case, <= 49 characters); default: the component name."""

    service_account_id: str | None = None
    """Account ID of the dedicated service account (6-30 characters); default ``<name>-run``.
    Never the Compute default account, which holds roles/editor on the whole project."""

    project_roles: list[str] = field(default_factory=list)
    """Project roles the service account gets, one ``projects.IAMMember`` each (e.g. ``roles/aiplatform.user``).
    Default none. Basic roles (owner, editor, viewer) are refused. Secret access is granted per secret
    from ``secret_env``, so ``roles/secretmanager.secretAccessor`` is not needed here."""

    ingress: Ingress = "INGRESS_TRAFFIC_INTERNAL_ONLY"
    """Where requests may come from. Default ``INGRESS_TRAFFIC_INTERNAL_ONLY``: only the VPC and Google
    internal sources, the narrowest setting (``..._INTERNAL_LOAD_BALANCER`` also admits an external
    Application Load Balancer). A public chat UI sets ``INGRESS_TRAFFIC_ALL`` explicitly."""

    allow_unauthenticated: bool = False
    """Grant ``roles/run.invoker`` to ``allUsers`` (anyone on the internet). Default off: callers need an
    identity token. Turn on only for a public UI, together with ``ingress="INGRESS_TRAFFIC_ALL"``."""

    invoker_members: list[str] = field(default_factory=list)
    """Principals allowed to call the service (``serviceAccount:...``, ``group:...``, ``user:...``), as plain
    strings (a service account's e-mail is known before it exists: ``<id>@<project>.iam.gserviceaccount.com``).
    Default none: only principals holding run.routes.invoke project-wide (owners, editors) can call it."""

    min_instances: int = 0
    """Instances kept warm. Default 0: scale to zero, nothing is billed while idle (cold starts instead).
    Each warm GPU instance is billed around the clock."""

    max_instances: int = 3
    """Ceiling on instances (1-1000): the cost cap under a traffic spike or a retry storm."""

    max_instance_request_concurrency: int = 80
    """Requests one instance serves at once (1-1000). 80 suits an async streaming web app; an LLM that
    batches on one GPU usually wants a lower value (4-16)."""

    cpu: int = 1
    """vCPUs per instance: 1, 2, 4, 6 or 8 (a GPU needs at least 4)."""

    memory_mib: int = 512
    """Memory per instance in MiB; the CPU count bounds it (4 GiB per vCPU, at least 2 GiB from 4 vCPUs)."""

    cpu_idle: bool = True
    """Request-based billing: CPU is allocated only while a request is in flight. Default on (cheapest).
    A GPU requires instance-based billing, so set False with ``gpu``."""

    startup_cpu_boost: bool = True
    """Extra CPU while an instance starts: shorter cold starts (model loading) at no cost while idle."""

    gpu: Literal["nvidia-l4"] | None = None
    """Attach one NVIDIA L4 (24 GB VRAM) per instance. Needs >= 4 CPU, >= 16 GiB, ``cpu_idle=False``
    and GPU quota in the region. Default none."""

    gpu_zonal_redundancy_disabled: bool = False
    """With a GPU: give up reserved failover capacity in other zones for a lower GPU price. Default False
    keeps zonal redundancy; dev and batch-like chat endpoints can turn it off."""

    container_port: int = 8080
    """Port the container listens on; Cloud Run passes it as ``$PORT``."""

    env: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Plain environment variables (values may be Outputs, e.g. another service's ``url``). Names that look like credentials are refused: use ``secret_env``."""

    secret_env: dict[str, SecretEnv] = field(default_factory=dict)
    """Environment variables read from Secret Manager; the service account gets
    ``roles/secretmanager.secretAccessor`` on each named secret only (not project-wide)."""

    gcs_volumes: dict[str, GcsVolume] = field(default_factory=dict)
    """Buckets mounted read-only, by volume name (lower-case, '-'): e.g. model weights. Default none. Turns on the
    gen2 execution environment, which Cloud Storage FUSE needs (a GPU service runs on gen2 anyway)."""

    startup_probe_path: str | None = None
    """HTTP path of the startup probe (e.g. ``/healthz``); default: a TCP check on ``container_port``."""

    startup_probe_period_seconds: int = 10
    """Seconds between startup probes (1-240)."""

    startup_probe_failure_threshold: int = 30
    """Failed startup probes before the instance is killed; with the period, 300 s to load a model by default."""

    liveness_probe_path: str | None = None
    """HTTP path of a liveness probe that restarts a wedged instance; default none (Cloud Run has no
    TCP liveness probe, and a wrong path would restart healthy instances)."""

    request_timeout_seconds: int = 900
    """Longest a request may run (1-3600). 900 s lets a streamed chat answer finish; 300 s is Cloud Run's default."""

    deletion_protection: bool = True
    """Refuse ``pulumi destroy``/replacement of the service (the provider's own default). Environments torn
    down routinely (dev, previews) set False."""

    tags: dict[str, str] = field(default_factory=dict)
    """Extra labels (lower-cased for GCP) on the service (the stack passes ``Environment``)."""


class CloudRunService(pulumi.ComponentResource):
    """A Cloud Run (v2) service running as a dedicated least-privilege service account.

    Private by default (internal ingress, no invoker binding), scales to zero, reads secrets from
    Secret Manager by reference and, when asked, attaches an NVIDIA L4 GPU under Cloud Run's rules.
    """

    url: pulumi.Output[str]
    """The service's ``https://<name>-<hash>-<region>.a.run.app`` address."""
    service_name: pulumi.Output[str]
    """Name of the Cloud Run service."""
    service_account_email: pulumi.Output[str]
    """E-mail of the service account the service runs as (grant it access to buckets, models...)."""

    def __init__(self, name: str, args: CloudRunServiceArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(name, args)
        super().__init__("genai:gcp:CloudRunService", name, None, opts)
        self._name = name
        project, region = args.project, args.region
        if project is None or region is None:
            client = organizations.get_client_config(opts=pulumi.InvokeOptions(parent=self))
            project, region = project or client.project, region or client.region
        if not region:
            raise ValueError("region is not set and the provider has no gcp:region: pass region='europe-west4' or similar.")

        account = serviceaccount.Account(
            f"{name}-sa",
            account_id=args.service_account_id or f"{name}-run",
            display_name=f"Cloud Run service {args.service_name or name}",
            description="Runtime identity of one Cloud Run service; holds only the roles its component names.",
            project=project,
            opts=self._child(),
        )
        grants = self._grant_roles(account, project, args)

        service = cloudrunv2.Service(
            f"{name}-service",
            name=args.service_name or name,
            location=region,
            project=project,
            ingress=args.ingress,
            deletion_protection=args.deletion_protection,
            labels=gcp_labels(args.tags),
            template=self._template(account, args),
            # The first revision must be able to read its secrets, or it never becomes ready.
            opts=self._child(depends_on=grants),
        )
        self._service = service
        self._invokers(service, args)

        self.url, self.service_name, self.service_account_email = service.uri, service.name, account.email
        self.register_outputs(
            {"url": self.url, "service_name": self.service_name, "service_account_email": self.service_account_email}
        )

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def allow_invocation_by(self, caller: "CloudRunService") -> cloudrunv2.ServiceIamMember:
        """Grant ``roles/run.invoker`` on this service to ``caller``'s own service account (it calls with an ID
        token for this service's URL). For callers created after this service, where ``invoker_members`` cannot
        name them: the binding waits for their account."""
        return cloudrunv2.ServiceIamMember(
            f"{self._name}-invoker-{caller._name}",
            name=self._service.name,
            location=self._service.location,
            project=self._service.project,
            role="roles/run.invoker",
            member=caller.service_account_email.apply(lambda email: f"serviceAccount:{email}"),
            opts=self._child(),
        )

    def _grant_roles(self, account: serviceaccount.Account, project: str,
                     args: CloudRunServiceArgs) -> list[pulumi.Resource]:
        grants: list[pulumi.Resource] = []
        for role in args.project_roles:
            grants.append(projects.IAMMember(
                f"{self._name}-{_slug(role.removeprefix('roles/'))}",
                project=project, role=role, member=account.member, opts=self._child(),
            ))
        # Per-bucket bindings: the service reads the buckets it mounts and no other bucket in the project.
        for volume, mount in sorted(args.gcs_volumes.items()):
            grants.append(storage.BucketIAMMember(
                f"{self._name}-read-{volume}",
                bucket=mount.bucket, role="roles/storage.objectViewer", member=account.member, opts=self._child(),
            ))
        # Per-secret bindings: the service reads the secrets it is wired to and no other secret in the project.
        for secret in sorted({ref.secret for ref in args.secret_env.values()}):
            grants.append(secretmanager.SecretIamMember(
                f"{self._name}-secret-{_slug(secret)}",
                secret_id=secret,
                project=None if secret.startswith("projects/") else project,
                role="roles/secretmanager.secretAccessor",
                member=account.member,
                opts=self._child(),
            ))
        return grants

    def _template(self, account: serviceaccount.Account,
                  args: CloudRunServiceArgs) -> cloudrunv2.ServiceTemplateArgs:
        memory = f"{args.memory_mib // 1024}Gi" if args.memory_mib % 1024 == 0 else f"{args.memory_mib}Mi"
        limits = {"cpu": str(args.cpu), "memory": memory}
        if args.gpu:
            limits["nvidia.com/gpu"] = "1"
        envs = [cloudrunv2.ServiceTemplateContainerEnvArgs(name=key, value=value) for key, value in sorted(args.env.items())]
        envs += [
            cloudrunv2.ServiceTemplateContainerEnvArgs(
                name=key,
                value_source=cloudrunv2.ServiceTemplateContainerEnvValueSourceArgs(
                    secret_key_ref=cloudrunv2.ServiceTemplateContainerEnvValueSourceSecretKeyRefArgs(
                        secret=ref.secret, version=ref.version),
                ),
            )
            for key, ref in sorted(args.secret_env.items())
        ]
        container = cloudrunv2.ServiceTemplateContainerArgs(
            image=args.image,
            ports=cloudrunv2.ServiceTemplateContainerPortsArgs(container_port=args.container_port, name="http1"),
            resources=cloudrunv2.ServiceTemplateContainerResourcesArgs(
                limits=limits, cpu_idle=args.cpu_idle, startup_cpu_boost=args.startup_cpu_boost),
            envs=envs,
            startup_probe=cloudrunv2.ServiceTemplateContainerStartupProbeArgs(
                period_seconds=args.startup_probe_period_seconds,
                failure_threshold=args.startup_probe_failure_threshold,
                timeout_seconds=min(args.startup_probe_period_seconds, 5),
                http_get=(cloudrunv2.ServiceTemplateContainerStartupProbeHttpGetArgs(
                    path=args.startup_probe_path, port=args.container_port) if args.startup_probe_path else None),
                tcp_socket=(None if args.startup_probe_path else
                            cloudrunv2.ServiceTemplateContainerStartupProbeTcpSocketArgs(port=args.container_port)),
            ),
            volume_mounts=[cloudrunv2.ServiceTemplateContainerVolumeMountArgs(name=volume, mount_path=mount.mount_path)
                           for volume, mount in sorted(args.gcs_volumes.items())] or None,
            liveness_probe=(cloudrunv2.ServiceTemplateContainerLivenessProbeArgs(
                # Three misses 30 s apart: a long generation must not look like a dead instance.
                period_seconds=30, failure_threshold=3, timeout_seconds=5,
                http_get=cloudrunv2.ServiceTemplateContainerLivenessProbeHttpGetArgs(
                    path=args.liveness_probe_path, port=args.container_port),
            ) if args.liveness_probe_path else None),
        )
        return cloudrunv2.ServiceTemplateArgs(
            service_account=account.email,
            containers=[container],
            scaling=cloudrunv2.ServiceTemplateScalingArgs(
                min_instance_count=args.min_instances, max_instance_count=args.max_instances),
            max_instance_request_concurrency=args.max_instance_request_concurrency,
            timeout=f"{args.request_timeout_seconds}s",
            node_selector=cloudrunv2.ServiceTemplateNodeSelectorArgs(accelerator=args.gpu) if args.gpu else None,
            gpu_zonal_redundancy_disabled=args.gpu_zonal_redundancy_disabled if args.gpu else None,
            volumes=[cloudrunv2.ServiceTemplateVolumeArgs(
                name=volume, gcs=cloudrunv2.ServiceTemplateVolumeGcsArgs(bucket=mount.bucket, read_only=True))
                for volume, mount in sorted(args.gcs_volumes.items())] or None,
            execution_environment="EXECUTION_ENVIRONMENT_GEN2" if args.gcs_volumes else None,
            labels=gcp_labels(args.tags),
        )

    def _invokers(self, service: cloudrunv2.Service, args: CloudRunServiceArgs) -> None:
        members = ["allUsers"] if args.allow_unauthenticated else args.invoker_members
        for member in members:
            cloudrunv2.ServiceIamMember(
                f"{self._name}-invoker-{_slug(member)}",
                name=service.name,
                location=service.location,
                project=service.project,
                role="roles/run.invoker",
                member=member,
                opts=self._child(),
            )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


def _validate(name: str, args: CloudRunServiceArgs) -> None:
    if isinstance(args.image, str) and not args.image.strip():
        raise ValueError(f"image={args.image!r} is empty: pass a container image, e.g. "
                         "'europe-west4-docker.pkg.dev/<project>/<repo>/chat@sha256:<digest>'.")
    service_name = args.service_name or name
    if not _SERVICE_NAME.match(service_name):
        raise ValueError(f"service_name={service_name!r} is not a Cloud Run service name: use lower-case letters, "
                         "digits and '-', starting with a letter, at most 49 characters.")
    account_id = args.service_account_id or f"{name}-run"
    if not _ACCOUNT_ID.match(account_id):
        raise ValueError(f"service_account_id={account_id!r} is not a service account ID: use 6-30 lower-case "
                         "letters, digits and '-', starting with a letter (pass service_account_id explicitly).")
    _validate_identity(args)
    _validate_capacity(args)
    _validate_environment(args)
    _validate_probes(args)
    _validate_volumes(args)
    check_range("request_timeout_seconds", args.request_timeout_seconds, 1, MAX_REQUEST_TIMEOUT_SECONDS, " seconds")


def _validate_identity(args: CloudRunServiceArgs) -> None:
    for role in args.project_roles:
        if role in BASIC_ROLES:
            raise ValueError(f"project_roles contains {role!r}, a basic role over every service in the project: "
                             "grant the predefined roles the service needs, e.g. 'roles/aiplatform.user'.")
        if not (role.startswith("roles/") or _CUSTOM_ROLE.match(role)):
            raise ValueError(f"project_roles contains {role!r}, which is not a role name: use 'roles/<service>.<role>' "
                             "or a custom role 'projects/<project>/roles/<id>'.")
    if len(set(args.project_roles)) != len(args.project_roles):
        raise ValueError(f"project_roles={args.project_roles} names a role twice: list each role once.")
    if args.ingress not in INGRESS_SETTINGS:
        raise ValueError(f"ingress={args.ingress!r} is not an ingress setting: use one of {list(INGRESS_SETTINGS)}.")
    check_members("invoker_members", args.invoker_members,
                  ": a public service is opted into with allow_unauthenticated=True, not through invoker_members.")
    if args.allow_unauthenticated and args.invoker_members:
        raise ValueError(f"invoker_members={args.invoker_members} is redundant with allow_unauthenticated=True "
                         "(allUsers can already invoke): drop one of them.")


def _validate_capacity(args: CloudRunServiceArgs) -> None:
    if args.min_instances < 0:
        raise ValueError(f"min_instances={args.min_instances} is negative: use 0 (scale to zero) or more.")
    check_range("max_instances", args.max_instances, 1, 1000)
    if args.min_instances > args.max_instances:
        raise ValueError(f"min_instances={args.min_instances} exceeds max_instances={args.max_instances}: "
                         "raise max_instances or lower min_instances.")
    check_range("max_instance_request_concurrency", args.max_instance_request_concurrency, 1, 1000)
    if args.cpu not in CPU_MEMORY_MIB:
        raise ValueError(f"cpu={args.cpu} is not a Cloud Run CPU count: use one of {list(CPU_MEMORY_MIB)}.")
    low, high = CPU_MEMORY_MIB[args.cpu]
    if not low <= args.memory_mib <= high:
        raise ValueError(f"memory_mib={args.memory_mib} does not fit cpu={args.cpu}: Cloud Run allows "
                         f"{low} to {high} MiB with {args.cpu} CPU.")
    if args.gpu is None:
        if args.gpu_zonal_redundancy_disabled:
            raise ValueError("gpu_zonal_redundancy_disabled=True has no effect without a GPU: set gpu='nvidia-l4' "
                             "or drop it.")
        return
    if args.gpu not in GPU_MINIMUMS:
        raise ValueError(f"gpu={args.gpu!r} is not a Cloud Run GPU: use one of {list(GPU_MINIMUMS)}.")
    min_cpu, min_memory = GPU_MINIMUMS[args.gpu]
    if args.cpu < min_cpu or args.memory_mib < min_memory:
        raise ValueError(f"gpu={args.gpu!r} needs at least {min_cpu} CPU and {min_memory} MiB, got cpu={args.cpu} "
                         f"and memory_mib={args.memory_mib}: raise them.")
    if args.cpu_idle:
        raise ValueError(f"gpu={args.gpu!r} requires CPU always allocated (instance-based billing): set cpu_idle=False.")
    if args.region is not None and args.region not in GPU_REGIONS[args.gpu]:
        raise ValueError(f"region={args.region!r} has no Cloud Run {args.gpu} GPUs: use one of "
                         f"{list(GPU_REGIONS[args.gpu])}.")


def _validate_environment(args: CloudRunServiceArgs) -> None:
    for key in [*args.env, *args.secret_env]:
        if not _ENV_NAME.match(key):
            raise ValueError(f"environment variable {key!r} is not a valid name: use letters, digits and '_', "
                             "not starting with a digit.")
        if key in RESERVED_ENV:
            raise ValueError(f"environment variable {key!r} is set by Cloud Run itself: choose another name.")
    both = sorted(set(args.env) & set(args.secret_env))
    if both:
        raise ValueError(f"environment variable {both[0]!r} is in both env and secret_env: keep it in secret_env only.")
    for key in args.env:
        if credential_marker(key):
            raise ValueError(f"env[{key!r}] looks like a credential and would be stored in plain text in the revision: "
                             f"put it in Secret Manager and pass it as secret_env[{key!r}]=SecretEnv(secret=...).")
    for key, ref in args.secret_env.items():
        if not _SECRET.match(ref.secret):
            raise ValueError(f"secret_env[{key!r}].secret={ref.secret!r} is not a secret name: use '<name>' or "
                             "'projects/<project>/secrets/<name>'.")
        if ref.version != "latest" and not (ref.version.isdigit() and int(ref.version) > 0):
            raise ValueError(f"secret_env[{key!r}].version={ref.version!r} is not a secret version: use 'latest' "
                             "or a version number such as '3'.")


def _validate_volumes(args: CloudRunServiceArgs) -> None:
    paths = [mount.mount_path for mount in args.gcs_volumes.values()]
    for volume, mount in args.gcs_volumes.items():
        if not re.fullmatch(r"[a-z][-a-z0-9]{0,62}", volume):
            raise ValueError(f"gcs_volumes has the volume name {volume!r}: use lower-case letters, digits and '-', "
                             "starting with a letter.")
        if not mount.mount_path.startswith("/") or mount.mount_path == "/":
            raise ValueError(f"gcs_volumes[{volume!r}].mount_path={mount.mount_path!r} is not an absolute directory: "
                             "use e.g. '/models'.")
    if len(set(paths)) != len(paths):
        raise ValueError(f"gcs_volumes mount two buckets at one path ({sorted(paths)}): give each its own mount_path.")


def _validate_probes(args: CloudRunServiceArgs) -> None:
    check_range("container_port", args.container_port, 1, 65535)
    for argument in ("startup_probe_path", "liveness_probe_path"):
        path = getattr(args, argument)
        if path is not None and not path.startswith("/"):
            raise ValueError(f"{argument}={path!r} must be an absolute HTTP path: start it with '/', e.g. '/healthz'.")
    check_range("startup_probe_period_seconds", args.startup_probe_period_seconds, 1, 240)
    check_range("startup_probe_failure_threshold", args.startup_probe_failure_threshold, 1)
    limit = STARTUP_PROBE_LIMIT_SECONDS[args.gpu is not None]
    total = args.startup_probe_period_seconds * args.startup_probe_failure_threshold
    if total > limit:
        raise ValueError(f"startup_probe_failure_threshold={args.startup_probe_failure_threshold} x "
                         f"startup_probe_period_seconds={args.startup_probe_period_seconds} = {total} s exceeds "
                         f"Cloud Run's {limit} s startup limit: lower one of them.")
