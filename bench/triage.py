"""Benchmark of the triage analyser: per-message time when warm, and its load time (import + first use).

Load, in fresh interpreters after the ingest worker's own imports (``import boto3, pydantic,
aws_lambda_powertools.utilities.batch``), median of N runs, bytecode compiled as the build ships it:

- ``import``: ``from services.appeals import triage`` - what the worker's cold start grows by when it imports the
  package at init (goal <= 150 ms; everything heavy loads on first use);
- ``first use``: ``triage.warm_up()`` - modules, weights, the pymorphy3 dictionary and one message: what a container
  pays once, on its first messages (goal <= 150 ms); the dictionary's share is printed apart.

Per message, in this process with the analyser loaded: median over real training texts, first pass (new words: the
lemma caches are cold) and second pass (caches warm), goal <= 2 ms; beside them two baselines of the same messages
measured in the same run: ``json.loads`` of the queued event and ``razdel`` tokenisation alone.

Wall and CPU time are both printed and the goals are checked on CPU time, with ratios to the baselines: on a shared
machine under load, wall time mostly measures the other processes. Run:
``.venv/bin/python bench/triage.py [--runs N] [--messages N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLOOR = "import boto3, pydantic, aws_lambda_powertools.utilities.batch"
MESSAGE_GOAL_MS = 2.0
LOAD_GOAL_MS = 150.0
SAMPLE = "Здравствуйте! Когда отремонтируют дорогу на улице Ленина? Ямы огромные, машины бьются."


def fresh_seconds(statement: str) -> tuple[float, float]:
    """Wall and CPU seconds a fresh interpreter spends on ``statement`` after the floor imports.

    CPU time is printed beside wall time: on a shared, busy machine it is the closer estimate of an idle one's wall.
    """
    probe = (
        f"{FLOOR}\nimport time\nt, c = time.perf_counter(), time.process_time()\n{statement}\n"
        "print(time.perf_counter() - t, time.process_time() - c)"
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["AWS_REGION"] = "eu-central-1"
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env, cwd=ROOT
    )
    wall, cpu = output.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def median_fresh(statement: str, runs: int) -> tuple[float, float]:
    fresh_seconds(statement)  # writes .pyc and warms the file cache, as a deployed package is
    samples = [fresh_seconds(statement) for _ in range(runs)]
    return statistics.median(wall for wall, _ in samples), statistics.median(cpu for _, cpu in samples)


def texts(limit: int) -> list[str]:
    folder = ROOT / "data" / "triage" / "train"
    files = sorted(folder.glob("*.jsonl")) or sorted((ROOT / "tests" / "triage" / "fixtures" / "train").glob("*.jsonl"))
    found = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                found.append(json.loads(line)["text"])
            except (ValueError, KeyError, TypeError):
                continue
    random.Random(7).shuffle(found)
    return found[:limit]


def per_message_ms(function: object, messages: list[str]) -> float:
    """Median CPU milliseconds per message (wall time on a busy machine mostly measures the other processes)."""
    durations = []
    for message in messages:
        start = time.thread_time()
        function(message)  # type: ignore[operator]
        durations.append(time.thread_time() - start)
    return statistics.median(durations) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--messages", type=int, default=400)
    args = parser.parse_args()

    print(f"triage analyser (python {sys.version.split()[0]})")
    razdel = median_fresh("import razdel\nlist(razdel.tokenize('Здравствуйте'))", args.runs)
    imported = median_fresh("from services.appeals import triage", args.runs)
    dictionary = median_fresh("from services.appeals.triage.text import morph\nmorph()", args.runs)
    first = median_fresh("from services.appeals import triage\ntriage.warm_up()", args.runs)
    print(f"  load, median of {args.runs} fresh interpreters, after the worker's `{FLOOR}`")
    print(f"    {'':44} {'wall ms':>8} {'cpu ms':>8} {'cpu/razdel':>10}")
    rows = (
        ("baseline: import razdel, tokenise a word", razdel, False),
        ("import (cold-start growth)", imported, True),
        ("pymorphy3 dictionary alone", dictionary, False),
        ("first use: import + weights + dictionary", first, True),
    )
    for name, (wall, cpu), goal in rows:
        verdict = ("ok" if cpu * 1000 <= LOAD_GOAL_MS else "OVER") if goal else ""
        print(
            f"    {name:44} {wall * 1000:8.1f} {cpu * 1000:8.1f} {cpu / razdel[1]:9.1f}x"
            + (f"  goal (cpu) <= {LOAD_GOAL_MS:.0f} ms {verdict}" if goal else "")
        )

    from razdel import tokenize

    from services.appeals import triage

    triage.warm_up()
    messages = texts(args.messages)
    events = [json.dumps({"type": "wall_reply_new", "object": {"text": text}}, ensure_ascii=False) for text in messages]
    loads = per_message_ms(json.loads, events)
    tokens = per_message_ms(lambda text: list(tokenize(text)), messages)
    cold = per_message_ms(triage.analyse, messages)
    warm = per_message_ms(triage.analyse, messages)
    answers = per_message_ms(triage.rate_answer, messages)
    words = statistics.median(len(text.split()) for text in messages)
    print(f"  per message, median over {len(messages)} training texts (median {words:.0f} words), analyser loaded")
    print(f"    baseline json.loads     {loads:8.3f} ms")
    print(f"    baseline razdel tokens  {tokens:8.3f} ms")
    for name, value in (("analyse, new words", cold), ("analyse, caches warm", warm), ("rate_answer", answers)):
        verdict = "ok" if value <= MESSAGE_GOAL_MS else "OVER"
        print(
            f"    {name:23} {value:8.3f} ms  {value / tokens:5.1f}x razdel  {value / loads:6.0f}x json.loads"
            f"  goal <= {MESSAGE_GOAL_MS} ms {verdict}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
