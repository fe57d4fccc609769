"""The embedded local stack behind ``gospubliki dev``: everything the template declares, on this machine.

moto runs in server mode on 127.0.0.1, with the patches of ``tooling.local.patches`` (costs that do not grow with
the data, and a report of every change); tables and queues are created from ``infra/template.yaml``; the functions'
environment is the template's, resolved; an SQS dispatcher and a scheduler invoke the real handlers; one uvicorn
server serves every HTTP route. State lives in a state folder and survives restarts and crashes
(``tooling.local.journal`` says how much a crash can lose).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared import wiring
from shared.logs import get_logger
from tooling.local.journal import COMPACT_JOURNAL_BYTES, SYNC_SECONDS, Journal, Resources
from tooling.local.template import Template, load_template

KEEP_ALIVE_SECONDS = 30
"""Longer than clients keep idle connections (httpx: 5 s), so none reuses one the server is closing."""
LOCAL_REGION = "eu-central-1"
TTL_SWEEP_SECONDS = 60.0

logger = get_logger("local")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class StackOptions:
    """How to run the local stack."""

    state_dir: Path = Path(".local")
    port: int = 8000
    host: str = "127.0.0.1"
    stack_name: str = "gospubliki-local"
    retry_delay_seconds: int | None = None
    max_schedule_period_seconds: float | None = 60.0
    snapshot_every_seconds: float = 600.0  # compaction of the journal into the snapshot, when something changed
    run_schedules: bool = True
    dispatch: bool = True
    log_level: str | None = None  # the functions' POWERTOOLS_LOG_LEVEL (the template's LogLevel parameter)


class LocalStack:
    """Start with ``start()``, stop with ``stop()`` (which saves state)."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.state_dir = options.state_dir.resolve()
        self.template: Template
        self._moto: Any = None
        self._server: Any = None
        self._gateway: Any = None
        self._server_thread: threading.Thread | None = None
        self._persistence_thread: threading.Thread | None = None
        self._journal: Journal | None = None
        self._stopping = threading.Event()
        self.restored = False
        self.base_url = f"http://{options.host}:{options.port}"

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start moto, provision from the template, restore state, start workers and the HTTP server."""
        from moto.server import ThreadedMotoServer

        from tooling.local import keys, patches, state

        patches.install()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
        self.state_dir.mkdir(parents=True, exist_ok=True)
        moto_port = free_port()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
        self._moto.start()
        jwks_path = keys.ensure_keys(self.state_dir)
        self._configure_process(moto_port=moto_port, jwks_path=jwks_path)

        parameters = {"JwtIssuer": keys.LOCAL_ISSUER, "JwtAudience": keys.LOCAL_AUDIENCE, "JwksUrl": ""}
        if self.options.log_level:
            parameters["LogLevel"] = self.options.log_level
        self.template = load_template(stack_name=self.options.stack_name, region=LOCAL_REGION, parameters=parameters)
        state.provision(self.template)
        self.restored = state.restore(self.template, self.state_dir)
        state.ensure_service_token(self.template)
        self._start_journal()
        for name, value in self.template.environment().items():
            os.environ[name] = value
        os.environ.pop("GOSPUBLIKI_AUTH_JWKS_URL", None)
        wiring.reset()

        from tooling.local.dispatcher import Dispatcher
        from tooling.local.scheduler import Scheduler

        self.dispatcher = Dispatcher(self.template, retry_delay_seconds=self.options.retry_delay_seconds)
        self.scheduler = Scheduler(self.template, max_period_seconds=self.options.max_schedule_period_seconds)
        if self.options.dispatch:
            self.dispatcher.start()
        if self.options.run_schedules:
            self.scheduler.start()
        self._start_http()
        self._persistence_thread = threading.Thread(target=self._persistence_loop, name="persistence", daemon=True)
        self._persistence_thread.start()

    def _configure_process(self, *, moto_port: int, jwks_path: Path) -> None:
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_REGION": LOCAL_REGION,
                "AWS_DEFAULT_REGION": LOCAL_REGION,
                "GOSPUBLIKI_AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
                "GOSPUBLIKI_AUTH_JWKS_FILE": str(jwks_path),
                "GOSPUBLIKI_VK_API_URL": f"{self.base_url}/_local/vk/method",
            }
        )
        wiring.reset()

    def _start_http(self) -> None:
        import uvicorn

        from tooling.local.gateway import Gateway

        self._gateway = Gateway(self)
        config = uvicorn.Config(
            self._gateway,
            host=self.options.host,
            port=self.options.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        self._server = uvicorn.Server(config)
        self._server_thread = threading.Thread(target=self._server.run, name="http", daemon=True)
        self._server_thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._server_thread.is_alive():
                raise RuntimeError(f"HTTP server did not start on {self.base_url}")
            time.sleep(0.05)

    def _start_journal(self) -> None:
        """Journal every change from now on. A restored state is compacted first: the previous run's journal is
        folded into the snapshot, and restored queue messages got new ids, which that journal does not know."""
        from tooling.local.patches import observer
        from tooling.local.state import live_state

        self._journal = Journal(self.state_dir, Resources.of(self.template))
        observer.observe(self._journal)
        if self.restored:
            self._journal.compact(lambda: live_state(self.template))

    def _persistence_loop(self) -> None:
        """Sync the journal every second, expire TTL items every minute, compact when due."""
        from tooling.local.state import expire_ttl, live_state

        journal = self._journal
        assert journal is not None, "started after the journal"
        period = min(SYNC_SECONDS, self.options.snapshot_every_seconds)
        last_expiry = last_compaction = time.monotonic()
        while not self._stopping.wait(period):
            try:
                journal.sync()
                now = time.monotonic()
                if now - last_expiry >= TTL_SWEEP_SECONDS:
                    last_expiry = now
                    expire_ttl(self.template)
                due = now - last_compaction >= self.options.snapshot_every_seconds
                if journal.dirty and (due or journal.size >= COMPACT_JOURNAL_BYTES):
                    last_compaction = now
                    journal.compact(lambda: live_state(self.template))
            except Exception:  # a failed compaction must not stop the stack: the journal keeps everything
                logger.exception("persistence upkeep failed; retrying")
                time.sleep(1)

    def stop(self, *, save: bool = True) -> None:
        """Stop workers and HTTP, close the journal - every change, queued messages too, is in it already; ``save``
        syncs it to disk first, ``save=False`` leaves it as a crash would - and stop moto."""
        from tooling.local.patches import observer

        self._stopping.set()
        if self._persistence_thread:
            self._persistence_thread.join(timeout=10)
        if self._server is not None:
            self._server.should_exit = True
        if self._server_thread:
            self._server_thread.join(timeout=10)
        if self._gateway is not None:
            self._gateway.close()
        self.scheduler.stop()
        self.dispatcher.stop()
        observer.observe(None)
        if self._journal is not None:
            self._journal.close(sync=save)
        self._forget_in_memory_state()
        self._moto.stop()

    def _forget_in_memory_state(self) -> None:
        """moto's backends are process-global: reset them so a restart in this process starts from the snapshot."""
        import urllib.request

        endpoint = os.environ["GOSPUBLIKI_AWS_ENDPOINT_URL"]
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)

    # ------------------------------------------------------------ introspection
    def queue_depths(self) -> dict[str, dict[str, int]]:
        """Visible and in-flight messages of every queue, by logical id."""
        from shared.aws import sqs

        depths = {}
        for logical_id, url in self.template.queue_urls.items():
            attributes = sqs().get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            depths[logical_id] = {
                "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
                "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            }
        return depths

    def health(self) -> dict[str, Any]:
        """Each component's status; ``status`` is ``ok`` only if all are."""
        from tooling.local.state import table_exists

        components: dict[str, Any] = {}
        try:
            for logical_id, props in self.template.tables().items():
                components[f"table:{logical_id}"] = "ok" if table_exists(props["TableName"]) else "missing"
            depths = self.queue_depths()
            for logical_id, depth in depths.items():
                components[f"queue:{logical_id}"] = {"status": "ok", **depth}
        except Exception as error:
            components["moto"] = f"down: {type(error).__name__}"
        for consumer in self.dispatcher.consumers:
            stats = consumer.stats
            components[f"consumer:{consumer.mapping.function_id}:{consumer.mapping.queue_id}"] = {
                "status": "ok" if stats.alive or not self.options.dispatch else "stopped",
                "batches": stats.batches,
                "succeeded": stats.succeeded,
                "failed": stats.failed,
            }
        for function_id, runs in self.scheduler.runs.items():
            components[f"schedule:{function_id}"] = {"status": "ok", "runs": runs}

        def _ok(value: Any) -> bool:
            return (value.get("status") if isinstance(value, dict) else value) == "ok"

        status = "ok" if all(_ok(v) for v in components.values()) else "degraded"
        return {"status": status, "components": components}
