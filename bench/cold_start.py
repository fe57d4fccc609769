"""Cold start of every function in the template, as a ratio to the floor measured in the same run.

Init = import of the handler's module, which also constructs the handler (Lambda's INIT phase), measured in
fresh interpreters, median of N runs. Floors: ``import fastapi, mangum, boto3`` for API functions and
``import boto3, pydantic, aws_lambda_powertools.utilities.batch`` for workers (every worker parses pydantic event
contracts in a Powertools batch). Goals: API functions <= 1.2x, workers <= 1.3x their floor.
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
WORKER_FLOOR = "import boto3, pydantic, aws_lambda_powertools.utilities.batch"
GOALS = {"api": 1.2, "worker": 1.3}


def init_seconds(statement: str) -> float:
    """Seconds a fresh interpreter spends on ``statement``."""
    probe = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}  # warm-up writes .pyc
    env["AWS_REGION"] = "eu-central-1"
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
    print(f"cold start, median of {args.runs} fresh interpreters (python {sys.version.split()[0]})")
    print(f"  floor api    {floors['api'] * 1000:7.1f} ms  ({API_FLOOR})")
    print(f"  floor worker {floors['worker'] * 1000:7.1f} ms  ({WORKER_FLOOR})")
    print(f"  {'function':28} {'kind':7} {'init ms':>8} {'ratio':>6}  goal")
    over = []
    for function_id, props in sorted(template.functions().items()):
        module, _, attribute = props["Handler"].rpartition(".")
        kind = "api" if any(e["Type"] == "HttpApi" for e in props.get("Events", {}).values()) else "worker"
        seconds = median_init(f"import {module} as m; m.{attribute}", args.runs)
        ratio = seconds / floors[kind]
        if ratio > GOALS[kind]:
            over.append(function_id)
        verdict = "ok" if ratio <= GOALS[kind] else "OVER"
        print(f"  {function_id:28} {kind:7} {seconds * 1000:8.1f} {ratio:6.2f}x  <= {GOALS[kind]}x {verdict}")
    print(f"over goal: {', '.join(over) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
