"""Fires the template's ``ScheduleV2`` events locally, with the scheduler's ``Input`` substitutions."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from shared.logs import get_logger
from tooling.local.lambda_runtime import LambdaContext, load_handler
from tooling.local.template import Schedule, Template

logger = get_logger("local")


def render_input(schedule: Schedule, *, when: datetime, execution_id: str) -> dict[str, Any]:
    """The event EventBridge Scheduler would deliver: ``Input`` with its context attributes filled in."""
    text = schedule.input.replace("<aws.scheduler.scheduled-time>", when.isoformat().replace("+00:00", "Z"))
    text = text.replace("<aws.scheduler.execution-id>", execution_id)
    text = text.replace("<aws.scheduler.schedule-arn>", f"arn:aws:scheduler:::schedule/local/{schedule.function_id}")
    result: dict[str, Any] = json.loads(text)
    return result


class Scheduler:
    """One timer thread per schedule; ``max_period_seconds`` shortens long periods for local life."""

    def __init__(self, template: Template, *, max_period_seconds: float | None = None) -> None:
        self.schedules = {schedule.function_id: schedule for schedule in template.schedules()}
        self.max_period_seconds = max_period_seconds
        self.runs: dict[str, int] = dict.fromkeys(self.schedules, 0)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def fire(self, function_id: str) -> Any:
        """Run one schedule now and return what its handler returned."""
        schedule = self.schedules[function_id]
        event = render_input(schedule, when=datetime.now(UTC), execution_id=str(uuid.uuid4()))
        result = load_handler(schedule.handler)(event, LambdaContext(function_name=function_id))
        self.runs[function_id] += 1
        return result

    def start(self) -> None:
        for function_id, schedule in self.schedules.items():
            period = schedule.period_seconds
            if self.max_period_seconds is not None:
                period = min(period, self.max_period_seconds)
            thread = threading.Thread(target=self._run, args=(function_id, period), name=f"schedule-{function_id}")
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def _run(self, function_id: str, period: float) -> None:
        while not self._stop.wait(period):
            try:
                self.fire(function_id)
            except Exception:  # the real scheduler retries; locally the next tick does
                logger.exception("scheduled run failed", extra={"function": function_id})

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
