"""The broker as /healthz reports it: whether it answers, and how long the oldest task waits."""

from __future__ import annotations

import json
import time
from pathlib import Path

from rapport.core.tasks import SENT_AT


def _oldest_redis(connection, queue: str) -> float | None:
    # kombu's Redis transport pushes on the left and workers pop from the right.
    raw = connection.default_channel.client.lindex(queue, -1)
    if raw is None:
        return None
    sent = json.loads(raw).get("headers", {}).get(SENT_AT)
    return max(0.0, time.time() - float(sent)) if sent else None


def _oldest_filesystem(folder: str, queue: str) -> float | None:
    times = [p.stat().st_mtime for p in Path(folder).glob(f"*.{queue}.msg")]
    return max(0.0, time.time() - min(times)) if times else None


def status() -> dict:
    """{"broker": "ok" | "error" | "eager", "oldest_queued_seconds": float | None}."""
    from rapport.celery import app

    conf = app.conf
    if conf.task_always_eager:
        return {"broker": "eager", "oldest_queued_seconds": None}
    queue = conf.task_default_queue
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
            if connection.transport_cls == "redis" or connection.transport.driver_type == "redis":
                age = _oldest_redis(connection, queue)
            elif connection.transport.driver_type == "filesystem":
                options = conf.broker_transport_options or {}
                age = _oldest_filesystem(options.get("data_folder_in", "."), queue)
            else:
                age = None
    except Exception as exc:  # any connection error means the broker is not usable
        return {"broker": "error", "broker_error": type(exc).__name__,
                "oldest_queued_seconds": None}
    return {"broker": "ok", "oldest_queued_seconds": None if age is None else round(age, 1)}
