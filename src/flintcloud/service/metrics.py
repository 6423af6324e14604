"""Prometheus metrics of the job queue (text exposition format 0.0.4), for dashboards and for
autoscaling workers on queue depth (a Kubernetes HPA through prometheus-adapter, KEDA's
`prometheus` or `postgresql` scalers: deploy/k8s, deploy/terraform).

The figures are read from the job database at each scrape (one GROUP BY), so every API replica
reports the same numbers and no counter is lost when a process restarts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flintcloud import __version__
from flintcloud.service.jobs import JobStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _label(value: str) -> str:
    # Prometheus label values escape backslash, double quote and newline.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_metrics(counts: Mapping[tuple[str, str], int], processes: Iterable[str]) -> str:
    """The exposition text for job `counts` by (process id, status); every registered process
    and every status is listed, 0 when it has no job, so that a series never disappears."""
    processes = sorted(set(processes) | {process for process, _ in counts})
    queued = sum(n for (_, status), n in counts.items() if status == JobStatus.ACCEPTED)
    running = sum(n for (_, status), n in counts.items() if status == JobStatus.RUNNING)
    lines = [
        "# HELP flintcloud_queue_depth Jobs accepted and waiting for a worker.",
        "# TYPE flintcloud_queue_depth gauge",
        f"flintcloud_queue_depth {queued}",
        "# HELP flintcloud_jobs_running Jobs a worker is running.",
        "# TYPE flintcloud_jobs_running gauge",
        f"flintcloud_jobs_running {running}",
        "# HELP flintcloud_jobs Jobs in the database by process and status.",
        "# TYPE flintcloud_jobs gauge",
    ]
    for process in processes:
        for status in JobStatus:
            count = counts.get((process, str(status)), 0)
            lines.append(f'flintcloud_jobs{{process="{_label(process)}",status="{status}"}} {count}')
    lines += ["# HELP flintcloud_info The service's version.",
              "# TYPE flintcloud_info gauge",
              f'flintcloud_info{{version="{_label(__version__)}"}} 1']
    return "\n".join(lines) + "\n"
