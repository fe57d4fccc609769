"""Unzipped size of every function as deployed (the Lambda build, into a temporary folder), against the goal.

Goal: no function over 60 MiB without boto3 and what it requires (Lambda's limit is 250 MiB with the layers).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tooling.build import MIB, PlatformName, build, measure, size_report  # noqa: E402

GOAL_MIB = 60
LAMBDA_LIMIT_MIB = 250


def main() -> int:
    argparse.ArgumentParser(description=__doc__).parse_args()
    with tempfile.TemporaryDirectory(prefix="gospubliki-build-") as folder:
        artifacts = build(out=Path(folder) / "build", platform_name=PlatformName.LAMBDA)
        sizes = measure(artifacts)
    print(size_report(artifacts, sizes))
    largest_id, largest = max(sizes.functions.items(), key=lambda item: item[1].without_sdk)
    verdict = "ok" if largest.without_sdk <= GOAL_MIB * MIB and largest.total <= LAMBDA_LIMIT_MIB * MIB else "OVER"
    print(
        f"largest without boto3: {largest_id} {largest.without_sdk / MIB:.1f} MiB (goal <= {GOAL_MIB} MiB), "
        f"{largest.total / MIB:.1f} MiB with it (limit {LAMBDA_LIMIT_MIB} MiB) {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
