"""The observability files the stack provisions, kept as data next to the program:

* ``scrape_configs.yaml``: what the OpenTelemetry collector scrapes;
* ``rules/*.yaml``: AMP rule group namespaces (recording and alerting rules) whose thresholds are
  ``[[name]]`` placeholders filled from the environment's SLOs;
* ``dashboards/*.json``: Grafana dashboard models.
"""

import re
from importlib import resources
from typing import Any

import yaml

from genai_platform.components.gcp.monitoring import FAST_BURN_RATE  # one burn rate for the AMP and the Cloud Monitoring alerts
from genai_platform.stacks.config import Slo
_PLACEHOLDER = re.compile(r"\[\[(\w+)\]\]")


def _files(folder: str, suffix: str) -> dict[str, str]:
    root = resources.files(__name__).joinpath(folder) if folder else resources.files(__name__)
    return {entry.name.removesuffix(suffix): entry.read_text() for entry in sorted(root.iterdir(), key=str)
            if entry.name.endswith(suffix)}


def thresholds(slo: Slo) -> dict[str, str]:
    """The values the rule files' placeholders take."""
    return {
        "availability_percent": f"{slo.availability_percent:g}",
        "fast_burn_5xx_ratio": f"{FAST_BURN_RATE * slo.error_budget:.4g}",
        "rag_p95_seconds": f"{slo.rag_p95_latency_ms / 1000:g}",
        "rag_p95_latency_ms": str(slo.rag_p95_latency_ms),
    }


def rule_files(slo: Slo) -> dict[str, str]:
    """Rule group namespaces by name, with every placeholder filled (an unknown one is an error)."""
    values = thresholds(slo)

    def fill(match: re.Match) -> str:
        if match.group(1) not in values:
            raise KeyError(f"rule placeholder [[{match.group(1)}]] has no value: add it to thresholds()")
        return values[match.group(1)]

    return {name: _PLACEHOLDER.sub(fill, text) for name, text in _files("rules", ".yaml").items()}


def dashboards() -> dict[str, str]:
    """Grafana dashboard models by short name."""
    return _files("dashboards", ".json")


def scrape_configs() -> list[dict[str, Any]]:
    """The collector's Prometheus scrape configs."""
    return yaml.safe_load(resources.files(__name__).joinpath("scrape_configs.yaml").read_text())["scrape_configs"]

