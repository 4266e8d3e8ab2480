"""Observability: Prometheus (AMP), Grafana, the on-call dashboard and the alert topic."""
