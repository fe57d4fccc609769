"""Cold start of every function in the template, as a ratio to the floor measured in the same run.

Init = import of the handler's module, which also constructs the handler (Lambda's INIT phase), measured in
fresh interpreters, median of N runs. Floors: ``import fastapi, mangum, boto3`` for API functions and
``import boto3, aws_lambda_powertools`` for workers. Goal: every function <= 1.2x its floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tooling.local.template import load_template  # noqa: E402

API_FLOOR = "import fastapi, mangum, boto3"
WORKER_FLOOR = "import boto3, aws_lambda_powertools"
# What every worker needs by design: Powertools' BatchProcessor and pydantic(-settings) for the event contracts.
WORKER_LIBRARIES = "import boto3, aws_lambda_powertools.utilities.batch, pydantic, pydantic_settings"
GOAL = 1.2


def init_seconds(statement: str) -> float:
    """Seconds a fresh interpreter spends on ``statement``."""
    probe = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    env = {**os.environ, "AWS_REGION": "eu-central-1"}
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env, cwd=ROOT
    )
    return float(output.stdout.strip().splitlines()[-1])


def median_init(statement: str, runs: int) -> float:
    """Median over ``runs`` fresh interpreters.

    One warm-up run primes the OS file cache and writes .pyc files, as the deployment package should ship them
    (compile the code at build time: Lambda's /var/task is read-only, so uncompiled modules recompile every INIT).
    """
    init_seconds(statement)
    return statistics.median(init_seconds(statement) for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    template = load_template(stack_name="bench", region="eu-central-1")
    floors = {"api": median_init(API_FLOOR, args.runs), "worker": median_init(WORKER_FLOOR, args.runs)}
    libraries = median_init(WORKER_LIBRARIES, args.runs)
    print(f"cold start, median of {args.runs} fresh interpreters (python {sys.version.split()[0]})")
    print(f"  floor api    {floors['api'] * 1000:7.1f} ms  ({API_FLOOR})")
    print(f"  floor worker {floors['worker'] * 1000:7.1f} ms  ({WORKER_FLOOR})")
    print(f"  worker libs  {libraries * 1000:7.1f} ms  {libraries / floors['worker']:.2f}x  ({WORKER_LIBRARIES})")
    print(f"  {'function':28} {'kind':7} {'init ms':>8} {'ratio':>6}  goal <= {GOAL}x")
    worst = 0.0
    for function_id, props in sorted(template.functions().items()):
        module, _, attribute = props["Handler"].rpartition(".")
        kind = "api" if any(e["Type"] == "HttpApi" for e in props.get("Events", {}).values()) else "worker"
        seconds = median_init(f"import {module} as m; m.{attribute}", args.runs)
        ratio = seconds / floors[kind]
        worst = max(worst, ratio)
        print(f"  {function_id:28} {kind:7} {seconds * 1000:8.1f} {ratio:6.2f}x {'ok' if ratio <= GOAL else 'OVER'}")
    print(f"worst ratio {worst:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
