"""The broker as /healthz reports it: whether it answers, and how long the oldest task waits."""

from __future__ import annotations

import json
import time
from pathlib import Path

from rapport.core.tasks import SENT_AT

# The oldest deliveries looked at among those not acknowledged (other queues may share the
# Redis database, and their deliveries are listed together).
UNACKED_SCAN = 200


def _oldest_redis(connection, queue: str) -> float | None:
    """The oldest task of `queue` not done: waiting in the queue (kombu's Redis transport pushes
    on the left and workers pop from the right), or taken by a worker and not acknowledged yet
    (running, held until its countdown, or left by a worker that died, until the visibility
    timeout delivers it again)."""
    channel = connection.default_channel
    client = channel.client
    sent = []
    raw = client.lindex(queue, -1)
    if raw is not None:
        sent.append(json.loads(raw).get("headers", {}).get(SENT_AT))
    tags = client.zrange(channel.unacked_index_key, 0, UNACKED_SCAN - 1)
    for value in client.hmget(channel.unacked_key, tags) if tags else ():
        if value is not None:
            message, _exchange, routing_key = json.loads(value)
            if routing_key == queue:
                sent.append(message.get("headers", {}).get(SENT_AT))
    times = [float(t) for t in sent if t]
    return max(0.0, time.time() - min(times)) if times else None


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
