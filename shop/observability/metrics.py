"""Prometheus exposition; aggregates across gunicorn workers when PROMETHEUS_MULTIPROC_DIR is set."""

from django_prometheus.exports import ExportToDjangoView

metrics_view = ExportToDjangoView
