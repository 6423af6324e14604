"""`/metrics`: the job queue for Prometheus (queue depth, running jobs, jobs by process and
status). Public like `/check`: counts only, no job ids, owners or inputs."""

from __future__ import annotations

from fastapi import APIRouter, Response

from flintcloud.service.deps import ServicesDep
from flintcloud.service.metrics import CONTENT_TYPE, render_metrics

router = APIRouter(tags=["Operations"])


@router.get("/metrics", name="metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE: {}},
                             "description": "Prometheus text exposition format 0.0.4."}})
def metrics(services: ServicesDep) -> Response:
    """Queue depth (`flintcloud_queue_depth`), running jobs and jobs by process and status, read
    from the job database: what workers scale on."""
    processes = [definition.id for definition in services.registry]
    return Response(render_metrics(services.jobs.counts(), processes), media_type=CONTENT_TYPE)
