"""``gospubliki dev``: run the embedded local stack until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from types import FrameType

from tooling.local.stack import LocalStack, StackOptions


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("dev", help="run the local stack (moto, all routes, queues, schedules)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--state", type=Path, default=Path(".local"), help="state folder (kept across restarts)")
    parser.add_argument("--no-seed", action="store_true", help="do not seed the demo region on first start")
    parser.add_argument(
        "--schedule-period",
        type=float,
        default=60.0,
        help="run schedules at least this often, in seconds (the template's period if shorter)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    stack = LocalStack(
        StackOptions(state_dir=args.state, port=args.port, max_schedule_period_seconds=args.schedule_period)
    )
    stack.start()
    seeded_marker = stack.state_dir / "seeded"
    if not args.no_seed and not seeded_marker.exists():
        from tooling.local.seed import seed_demo

        seed_demo(base_url=stack.base_url, state_dir=stack.state_dir)
        seeded_marker.touch()
    print(
        f"Gospubliki Hub local stack is up ({'state restored' if stack.restored else 'fresh state'} in {args.state})\n"
        f"  Console  {stack.base_url}/console/  (local sign-in: pick a role, region and institution)\n"
        f"  API      {stack.base_url}\n"
        f"  Docs     {stack.base_url}/docs\n"
        f"  Health   {stack.base_url}/health\n"
        f"  Token    .venv/bin/gospubliki token --role regional_admin --region 54 --state {args.state}\n"
        f'  Try      curl -H "Authorization: Bearer $TOKEN" {stack.base_url}/registry/institutions\n'
        "Ctrl-C stops it and saves state.",
        flush=True,
    )
    stopped = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001 - signal handler signature
        stopped.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    stopped.wait()
    print("stopping, saving state ...", flush=True)
    stack.stop()
    return 0
