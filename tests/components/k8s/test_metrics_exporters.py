import pytest

from genai_platform.components.k8s.metrics_exporters import MetricsExporters, MetricsExportersArgs
from genai_platform.mockcloud import run_under_mocks

RELEASE = "kubernetes:helm.sh/v3:Release"


def releases(**kwargs):
    plan = run_under_mocks(lambda: MetricsExporters("exporters", MetricsExportersArgs(provider=None, **kwargs)))
    return {r.inputs["chart"]: r.inputs for r in plan.of_type(RELEASE)}


def test_pinned_charts_in_kube_system():
    found = releases(node_selector={"genai-platform/pool": "system"})
    assert {chart: (r["version"], r["repositoryOpts"]["repo"], r["namespace"]) for chart, r in found.items()} == {
        "kube-state-metrics": ("8.4.0", "https://prometheus-community.github.io/helm-charts", "kube-system"),
        "dcgm-exporter": ("4.8.2", "https://nvidia.github.io/dcgm-exporter/helm-charts", "kube-system"),
    }
    assert found["kube-state-metrics"]["values"]["nodeSelector"] == {"genai-platform/pool": "system"}


def test_dcgm_exporter_runs_on_gpu_nodes_only_tolerating_their_taint_without_sys_admin():
    values = releases(gpu_node_selector={"nvidia.com/gpu.present": "true"})["dcgm-exporter"]["values"]
    assert values["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert values["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert values["serviceMonitor"] == {"enabled": False}  # no Prometheus operator CRDs in the cluster
    assert values["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert values["securityContext"]["allowPrivilegeEscalation"] is False


def test_either_exporter_alone():
    assert set(releases(kube_state_metrics=False)) == {"dcgm-exporter"}
    assert set(releases(dcgm_exporter=False)) == {"kube-state-metrics"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kube_state_metrics": False, "dcgm_exporter": False},
     "kube_state_metrics=False and dcgm_exporter=False install nothing: enable one, or do not create "
     "MetricsExporters."),
    ({"gpu_node_selector": {}},
     "gpu_node_selector={} would run the DCGM exporter on every node, where it crash-loops without a GPU: pass the "
     "GPU nodes' labels, e.g. {'nvidia.com/gpu.present': 'true'}."),
])
def test_validation(kwargs, message):
    with pytest.raises(ValueError) as error:
        MetricsExporters("exporters", MetricsExportersArgs(provider=None, **kwargs))
    assert str(error.value) == message
