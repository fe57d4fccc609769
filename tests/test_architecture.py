"""Architecture contracts: layering checked by import-linter (pyproject's ``[tool.importlinter]``), worker imports."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tooling.local.template import load_template

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
TEMPLATE = load_template(stack_name="arch", region="eu-central-1")
WORKER_MODULES = sorted(
    props["Handler"].rpartition(".")[0]
    for props in TEMPLATE.functions().values()
    if not any(event["Type"] == "HttpApi" for event in props.get("Events", {}).values())
)
WEB_FRAMEWORK = ("fastapi", "starlette", "mangum")


def _lint_imports(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )


def test_every_contract_holds() -> None:
    result = _lint_imports(ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_worker_contract_names_exactly_the_templates_workers() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    workers = next(contract for contract in contracts if contract["id"] == "workers-without-fastapi")
    assert sorted(workers["source_modules"]) == WORKER_MODULES
    assert set(WEB_FRAMEWORK) <= set(workers["forbidden_modules"])


def test_a_forbidden_transitive_import_is_reported(tmp_path: Path) -> None:
    """The checker sees through indirect imports: every worker reaches pydantic through the event contracts."""
    config = tmp_path / "contracts.toml"
    modules = ", ".join(f'"{module}"' for module in WORKER_MODULES)
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["shared", "services"]\ninclude_external_packages = true\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "probe"\ntype = "forbidden"\n'
        f'source_modules = [{modules}]\nforbidden_modules = ["pydantic"]\n'
    )
    result = _lint_imports(config)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout


@pytest.mark.parametrize("module", WORKER_MODULES)
def test_importing_a_worker_loads_no_web_framework(module: str) -> None:
    probe = (
        f"import sys, {module} as m; m.handler; "
        f"print(','.join(sorted(n for n in sys.modules if n.split('.')[0] in {WEB_FRAMEWORK!r})))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"{module} loads {result.stdout.strip()}"
