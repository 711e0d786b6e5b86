"""The broker as /healthz reports it: whether it answers, and how long the oldest task waits."""

from __future__ import annotations

import json
import time
from datetime import datetime
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
    messages = []
    raw = client.lindex(queue, -1)
    if raw is not None:
        messages.append(json.loads(raw))
    tags = client.zrange(channel.unacked_index_key, 0, UNACKED_SCAN - 1)
    for value in client.hmget(channel.unacked_key, tags) if tags else ():
        if value is not None:
            message, _exchange, routing_key = json.loads(value)
            if routing_key == queue:
                messages.append(message)
    now = time.time()
    times = [t for t in map(_due_since, messages) if t is not None and t <= now]
    return max(0.0, now - min(times)) if times else None


def _due_since(message: dict) -> float | None:
    """Since when a task has been due: when it was queued, or its start time (Celery's `eta`:
    a countdown, a retry's backoff, a webhook's next try), which a worker holds it until,
    unacknowledged; it is not late before then."""
    headers = message.get("headers") or {}
    sent = headers.get(SENT_AT)
    if not sent:
        return None
    eta = headers.get("eta")
    try:
        due = datetime.fromisoformat(eta).timestamp() if eta else None
    except (TypeError, ValueError):
        due = None
    return max(float(sent), due) if due is not None else float(sent)


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
