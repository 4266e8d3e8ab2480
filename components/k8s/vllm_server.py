"""VllmServer: a vLLM OpenAI-compatible server on the GPU node pool, streaming its weights from S3."""

import math
from dataclasses import dataclass, field

import pulumi
from pulumi_kubernetes.provider import Provider

from genai_platform.components.k8s.kube_service import KubeService, KubeServiceArgs, cluster_url
from genai_platform.components.k8s.pod import DEFAULT_GPU_NODE_SELECTOR, MAX_GPUS_PER_POD
from genai_platform.components.validation import check_range

VLLM_IMAGE = "docker.io/vllm/vllm-openai:v0.12.0"
"""The vLLM server image (vllm-project/vllm release v0.12.0, hub.docker.com/r/vllm/vllm-openai). Its image bundles
``runai-model-streamer[s3,gcs]`` (vLLM's docker/Dockerfile installs it in the vllm-openai stage), which
``--load-format runai_streamer`` needs to read ``s3://`` paths."""

VLLM_PORT = 8000
WAITING_REQUESTS_METRIC = "vllm:num_requests_waiting"
"""The Prometheus gauge vLLM exports on ``/metrics``: requests queued for a free batch slot, the load signal."""

STARTUP_BASE_SECONDS = 240
"""Engine start before any weight arrives: CUDA context, profiling the KV cache, capturing CUDA graphs (ai-on-eks'
vLLM chart allows 600 s in total for a 7B model)."""
STARTUP_SECONDS_PER_GIB = 20
"""Weight streaming budget: 20 s per GiB is ~50 MiB/s, a floor well below what the Run:ai streamer reaches from S3
in-region (hundreds of MiB/s on a g6.xlarge's 10 Gbit/s), so a slow start is not killed in a loop."""

MAX_STARTUP_SECONDS = 3600


@dataclass(kw_only=True)
class VllmServerArgs:
    """Arguments of :class:`VllmServer`. The defaults fit one g6.xlarge (4 vCPU, 16 GiB, one 24 GB L4)."""

    namespace: str
    """Namespace of the server. Its NetworkPolicy admits only this namespace's pods (plus ``allow_from_namespaces``),
    so put it in the namespace of its one client (the stacks: ``rag``)."""

    model_uri: pulumi.Input[str]
    """Where the weights are: ``s3://<bucket>/<prefix>`` (``ModelStore.model_uri``), the folder holding
    ``config.json``, the tokenizer and ``*.safetensors``. Streamed straight to GPU memory by the Run:ai model
    streamer (``--load-format runai_streamer``), with the pod's IRSA role."""

    served_model_name: str
    """Model name clients pass in the OpenAI API's ``model`` field (e.g. ``mistral-7b-instruct``)."""

    model_size_gib: float
    """Size of the weights in GiB (``aws s3 ls --summarize --recursive``): sets the startup probe's budget,
    ``STARTUP_BASE_SECONDS`` + ``STARTUP_SECONDS_PER_GIB`` per GiB, at most 3600 s."""

    iam_role_arn: pulumi.Input[str]
    """IRSA role that may read the weights (``ModelStore.reader_role_arn``)."""

    aws_region: str
    """Region of the weights bucket (the streamer's S3 client needs it)."""

    image: str = VLLM_IMAGE
    """The vLLM image, pinned; default ``VLLM_IMAGE``."""

    max_model_len: int = 8192
    """Longest prompt + answer in tokens (256-131072): bounds the KV cache each sequence may take."""

    gpu_memory_utilization: float = 0.9
    """Share of each GPU's memory vLLM may take for weights and KV cache (0.5-0.95); the rest is CUDA's overhead."""

    tensor_parallel_size: int = 1
    """GPUs one model copy is sharded over; must equal ``gpus_per_replica`` (a GPU outside the shards idles)."""

    gpus_per_replica: int = 1
    """NVIDIA GPUs per pod (1-8); one L4 (24 GB) holds a 7B model in bf16 with an 8k context."""

    gpu_node_selector: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_GPU_NODE_SELECTOR))
    """Node labels of the GPU pool (``KarpenterNodePool.node_selector``)."""

    cpu_request_millicores: int = 3000
    """CPU reserved (tokenisation, the API server, the streamer's threads). 3 of a g6.xlarge's 4 vCPU: the rest goes
    to the kubelet and the node's DaemonSets."""

    memory_request_mib: int = 10240
    """Memory reserved, MiB: the streamer's buffers and the engine's host copies fit 10 GiB for a 7B model."""

    memory_limit_mib: int = 12288
    """Memory cap, MiB: below the ~14.5 GiB a g6.xlarge leaves allocatable, so the pod fits the node it asks for."""

    min_replicas: int = 0
    """Fewest replicas the ScaledObject keeps (the server has no HPA of its own: ``external_autoscaler``)."""

    max_replicas: int = 1
    """Most replicas; with one GPU each, at most the GPU pool's ``gpu_limit`` / ``gpus_per_replica``."""

    env: dict[str, str] = field(default_factory=dict)
    """Extra plain environment variables (e.g. the OpenTelemetry SDK settings); the server's own win on a clash."""

    allow_from_namespaces: list[str] = field(default_factory=list)
    """Other namespaces whose pods may call the server; default none."""

    provider: Provider | None = None
    """Kubernetes provider of the cluster."""


class VllmServer(pulumi.ComponentResource):
    """A :class:`KubeService` running ``vllm serve``: ClusterIP Service on port 80, NetworkPolicy, IRSA service
    account, the GPU toleration and node selector, a startup probe sized to the model, and
    ``karpenter.sh/do-not-disrupt`` on its pods so consolidation never drains a node mid-load or mid-answer.

    Replicas are left to a KEDA ``ScaledObject`` (no HPA): scale it on ``WAITING_REQUESTS_METRIC``.
    """

    service: KubeService
    """The Deployment, Service, NetworkPolicy and service account."""
    base_url: str
    """OpenAI-compatible base URL for in-cluster clients: ``http://<name>.<namespace>.svc.cluster.local:80/v1``."""
    deployment_name: str
    """Name of the Deployment (for the ScaledObject)."""

    def __init__(self, name: str, args: VllmServerArgs, opts: pulumi.ResourceOptions | None = None):
        _validate(args)
        super().__init__("genai:k8s:VllmServer", name, None, opts)
        depends_on = list(opts.depends_on) if opts and isinstance(opts.depends_on, (list, tuple)) else []
        self.service = KubeService(name, KubeServiceArgs(
            image=args.image,
            namespace=args.namespace,
            provider=args.provider,
            command=["vllm", "serve"],
            args=vllm_arguments(args),
            env={
                **args.env,
                # Weights come from S3 only: never reach out to the Hugging Face Hub.
                "HF_HUB_OFFLINE": "1",
                # The root filesystem is read-only: caches (compiled kernels, CUDA graphs) go to the scratch volume.
                "HOME": "/cache", "HF_HOME": "/cache/huggingface", "VLLM_CACHE_ROOT": "/cache/vllm",
                "AWS_REGION": args.aws_region,
            },
            iam_role_arn=args.iam_role_arn,
            container_port=VLLM_PORT,
            health_check_path="/health",
            startup_timeout_seconds=startup_budget_seconds(args.model_size_gib),
            gpu_count=args.gpus_per_replica,
            gpu_node_selector=args.gpu_node_selector,
            cpu_request_millicores=args.cpu_request_millicores,
            memory_request_mib=args.memory_request_mib,
            memory_limit_mib=args.memory_limit_mib,
            # /dev/shm: NCCL's shared memory between tensor-parallel workers.
            writable_paths=["/tmp", "/cache", "/dev/shm"],
            scratch_size_limit_mib=8192,
            min_replicas=args.min_replicas,
            max_replicas=args.max_replicas,
            external_autoscaler=True,
            allow_from_namespaces=args.allow_from_namespaces,
            pod_annotations={"karpenter.sh/do-not-disrupt": "true"},
            part_of=args.namespace,
        ), pulumi.ResourceOptions(parent=self, depends_on=depends_on))
        self.deployment_name = name
        self.base_url = base_url(name, args.namespace)
        self.register_outputs({"base_url": self.base_url})


def base_url(name: str, namespace: str) -> str:
    """The OpenAI-compatible base URL of the VllmServer ``name`` in ``namespace`` (its Service's cluster DNS name),
    known before the server exists: clients created first get it in their environment."""
    return f"{cluster_url(name, namespace)}/v1"


def vllm_arguments(args: VllmServerArgs) -> list[pulumi.Input[str]]:
    """``vllm serve`` arguments (vLLM's engine arguments, docs.vllm.ai ``serve`` reference)."""
    return [
        args.model_uri,
        "--load-format", "runai_streamer",
        "--served-model-name", args.served_model_name,
        "--max-model-len", str(args.max_model_len),
        "--gpu-memory-utilization", f"{args.gpu_memory_utilization:g}",
        "--tensor-parallel-size", str(args.tensor_parallel_size),
        "--port", str(VLLM_PORT),
        # RAG prompts share long system and context prefixes: their KV cache is reused instead of recomputed.
        "--enable-prefix-caching",
    ]


def startup_budget_seconds(model_size_gib: float) -> int:
    """Seconds a new pod gets to answer ``/health``: the engine's start plus the weights' streaming time."""
    return STARTUP_BASE_SECONDS + math.ceil(model_size_gib * STARTUP_SECONDS_PER_GIB)


def _validate(args: VllmServerArgs) -> None:
    if args.model_size_gib <= 0:
        raise ValueError(f"model_size_gib={args.model_size_gib} is not a size: pass the weights' size in GiB, "
                         "e.g. 14.5 for a 7B model in bf16.")
    budget = startup_budget_seconds(args.model_size_gib)
    if budget > MAX_STARTUP_SECONDS:
        raise ValueError(f"model_size_gib={args.model_size_gib} needs a {budget} s startup budget, above the "
                         f"{MAX_STARTUP_SECONDS} s a startup probe may take: serve a quantised or smaller model.")
    if isinstance(args.model_uri, str) and not args.model_uri.startswith("s3://"):
        raise ValueError(f"model_uri={args.model_uri!r} is not an S3 path: use 's3://<bucket>/<prefix>' "
                         "(ModelStore.model_uri).")
    check_range("max_model_len", args.max_model_len, 256, 131_072, " tokens")
    if not 0.5 <= args.gpu_memory_utilization <= 0.95:
        raise ValueError(f"gpu_memory_utilization={args.gpu_memory_utilization} is out of range: use 0.5 to 0.95 "
                         "(above, CUDA runs out of memory for its own buffers).")
    check_range("gpus_per_replica", args.gpus_per_replica, 1, MAX_GPUS_PER_POD, " GPUs per pod")
    if args.tensor_parallel_size != args.gpus_per_replica:
        raise ValueError(f"tensor_parallel_size={args.tensor_parallel_size} differs from gpus_per_replica="
                         f"{args.gpus_per_replica}: vLLM shards the model over tensor_parallel_size GPUs and the "
                         "others idle while billed; set them equal.")
    if not args.served_model_name or any(c in args.served_model_name for c in " /"):
        raise ValueError(f"served_model_name={args.served_model_name!r} is not a model name: use letters, digits, "
                         "'-', '_' and '.', e.g. 'mistral-7b-instruct'.")
