"""Against the whole local stack: the demo seed and ``gospubliki export`` / ``gospubliki import`` over HTTP."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tooling.cli import main
from tooling.local.keys import issue_token
from tooling.local.seed import DEMO_PAGES, seed_demo


def _get(stack: Any, path: str) -> Any:
    token = issue_token(stack.state_dir, role="regional_admin", region="54")
    request = urllib.request.Request(f"{stack.base_url}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_seed_and_cli_round_trip(local_stack: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_demo(base_url=local_stack.base_url, state_dir=local_stack.state_dir)
    seed_demo(base_url=local_stack.base_url, state_dir=local_stack.state_dir)  # a second run changes nothing
    institutions = _get(local_stack, "/registry/institutions")["items"]
    pages = _get(local_stack, "/registry/pages")["items"]
    assert len(institutions) == 5
    assert sorted(p["group_id"] for p in pages) == sorted(p.group_id for p in DEMO_PAGES)
    assert all(p["callback_configured"] for p in pages)

    target = tmp_path / "registry-54.xlsx"
    common = ["--url", local_stack.base_url, "--state", str(local_stack.state_dir)]
    assert main(["export", "--region", "54", "--format", "xlsx", "-o", str(target), *common]) == 0
    assert target.stat().st_size > 0
    capsys.readouterr()
    assert main(["import", str(target), "--region", "54", "--dry-run", *common]) == 0
    output = capsys.readouterr()
    assert "dry run: 6 rows" in output.out and "unchanged        6" in output.out
    assert "100%" in output.err
