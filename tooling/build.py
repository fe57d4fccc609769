"""Deployable artifacts for every function of ``infra/template.yaml``: ``python -m tooling.build --out DIR``.

Lays out what ``sam build`` would, so ``sam deploy`` (samconfig reads ``.aws-sam/build/template.yaml``) ships it
unchanged:

- ``DIR/<FunctionId>/``: ``shared/`` (with its package data), ``services/__init__.py`` and the one service folder
  the function's ``CodeUri`` names - nothing else of the checkout;
- ``DIR/<LayerId>/python/``: the pinned ``[project.dependencies]`` of ``pyproject.toml`` (the layer's
  ``ContentUri``), installed by ``pip --target`` from wheels for the template's runtime and architecture, so neither
  Docker nor the target Python is needed;
- ``DIR/template.yaml``: the template with ``CodeUri``/``ContentUri`` pointing at those folders.

Modules are precompiled (unchecked-hash ``.pyc``: Lambda's code folders are read-only, so a missing ``.pyc`` is
recompiled at every cold start) when an interpreter of the target version is available.
"""

from __future__ import annotations

import argparse
import copy
import platform
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib.metadata import Distribution, distributions
from pathlib import Path
from typing import Any

import yaml

from tooling.local.template import TEMPLATE_PATH, load_template

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
DEFAULT_OUT = ROOT / ".aws-sam" / "build"
COMMON_PACKAGES = ("shared",)
"""Packages every function runs, next to its own service package."""
SDK_DISTRIBUTION = "boto3"
"""Reported apart: the layer's size without it and its dependencies shows what shipping the SDK costs."""
PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,.-]+\])?==[^\s,;]+$")
REQUIREMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")
MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}
"""Lambda architecture -> machine name in manylinux wheel tags."""
MIB = 1024 * 1024
HOST_PYTHON = "{}.{}".format(*sys.version_info[:2])


class BuildError(RuntimeError):
    """The template, pyproject or a build step does not allow a correct artifact."""


class PlatformName(StrEnum):
    """What the artifacts are for: the template's Lambda runtime, or this machine's interpreter (tests)."""

    LAMBDA = "lambda"
    HOST = "host"


@dataclass(frozen=True)
class Target:
    """Python version and architecture the artifacts run on; ``cross`` builds fetch wheels for another platform."""

    python_version: str
    architecture: str
    cross: bool

    @classmethod
    def lambda_runtime(cls, functions: dict[str, dict[str, Any]], globals_: dict[str, Any]) -> Target:
        """The one runtime and architecture every function of the template declares (``python3.12``, ``arm64``)."""
        declared = {
            (
                props.get("Runtime", globals_.get("Runtime")),
                tuple(props.get("Architectures", globals_.get("Architectures", ["x86_64"]))),
            )
            for props in functions.values()
        }
        if len(declared) != 1:
            raise BuildError(f"functions must share one runtime and architecture to share a layer, got {declared}")
        ((runtime, architectures),) = declared
        if not (isinstance(runtime, str) and runtime.startswith("python")) or len(architectures) != 1:
            raise BuildError(f"unsupported runtime {runtime} / architectures {list(architectures)}")
        if architectures[0] not in MACHINES:
            raise BuildError(f"unsupported architecture {architectures[0]}")
        return cls(python_version=runtime.removeprefix("python"), architecture=architectures[0], cross=True)

    @classmethod
    def host(cls) -> Target:
        """This interpreter on this machine."""
        machine = platform.machine().lower()
        architecture = next((name for name, wheel in MACHINES.items() if wheel == machine), machine)
        return cls(python_version=HOST_PYTHON, architecture=architecture, cross=False)

    @property
    def description(self) -> str:
        return f"python{self.python_version} {self.architecture}" + ("" if self.cross else " (this machine)")

    def pip_platform_options(self) -> list[str]:
        """``pip install`` options selecting wheels for this target (none for the host: pip's own tags)."""
        if not self.cross:
            return []
        return [
            "--platform",
            f"manylinux2014_{MACHINES[self.architecture]}",
            "--implementation",
            "cp",
            "--python-version",
            self.python_version,
        ]

    def interpreter(self) -> str | None:
        """An interpreter of the target version to compile ``.pyc`` with (bytecode is the same on every machine)."""
        if not self.cross or self.python_version == HOST_PYTHON:
            return sys.executable
        candidate = shutil.which(f"python{self.python_version}")
        if candidate is None:
            return None
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        return candidate if probe.returncode == 0 and probe.stdout.strip() == self.python_version else None


@dataclass(frozen=True)
class Project:
    """What ``pyproject.toml`` says about the runtime: pinned dependencies and package data."""

    dependencies: tuple[str, ...]
    package_data: dict[str, list[str]]

    @classmethod
    def read(cls, path: Path = PYPROJECT) -> Project:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        dependencies = tuple(document["project"]["dependencies"])
        unpinned = [requirement for requirement in dependencies if not PIN.fullmatch(requirement)]
        if unpinned:
            raise BuildError(f"runtime dependencies must be pinned with == in {path.name}: {unpinned}")
        package_data = document.get("tool", {}).get("setuptools", {}).get("package-data", {})
        return cls(dependencies=dependencies, package_data=package_data)


@dataclass(frozen=True)
class FunctionArtifact:
    """One function's code folder and the layers it references."""

    function_id: str
    handler: str
    code_dir: Path
    layer_ids: tuple[str, ...]


@dataclass(frozen=True)
class Artifacts:
    """The result of a build: folders per function and layer, and the rewritten template."""

    out: Path
    target: Target
    functions: dict[str, FunctionArtifact]
    layers: dict[str, Path]
    compiled_with: str | None

    def import_paths(self, function_id: str) -> list[Path]:
        """``sys.path`` entries the function's runtime adds, in Lambda's order (``/var/task``, ``/opt/python``)."""
        function = self.functions[function_id]
        return [function.code_dir, *(self.layers[layer_id] / "python" for layer_id in function.layer_ids)]


def _say(message: str) -> None:
    print(message, flush=True)  # noqa: T201 - the build's progress and size report are its output


def _layer_ids(props: dict[str, Any], globals_: dict[str, Any]) -> tuple[str, ...]:
    """Logical ids of the layers a function references (Globals first, as SAM merges them)."""
    references = [*globals_.get("Layers", []), *props.get("Layers", [])]
    if not all(isinstance(reference, dict) and "Ref" in reference for reference in references):
        raise BuildError(f"only layers of this template (!Ref) can be built, got {references}")
    return tuple(reference["Ref"] for reference in references)


def _source_path(uri: Any, template_path: Path) -> Path:
    if not isinstance(uri, str):
        raise BuildError(f"CodeUri/ContentUri must be a local path, got {uri}")
    return (template_path.parent / uri).resolve()


def _service_package(function_id: str, props: dict[str, Any], template_path: Path) -> Path:
    """The service folder the function's ``CodeUri`` names, checked against its ``Handler``."""
    package = _source_path(props.get("CodeUri"), template_path)
    if package.parent != ROOT / "services" or not (package / "__init__.py").is_file():
        raise BuildError(f"{function_id}: CodeUri must name a service package under services/, got {package}")
    module = ".".join(package.relative_to(ROOT).parts)
    if not props["Handler"].startswith(f"{module}."):
        raise BuildError(f"{function_id}: handler {props['Handler']} is not inside its CodeUri ({module})")
    return package


def _package_files(package: Path, data_patterns: Iterable[str]) -> Iterator[Path]:
    """A package's modules (recursively) and package data, never bytecode caches."""
    yield from (file for file in package.rglob("*.py") if "__pycache__" not in file.parts)
    for pattern in data_patterns:
        yield from (file for file in package.glob(pattern) if file.is_file())


def _copy_function_code(service_package: Path, project: Project, code_dir: Path) -> None:
    """``shared/`` + ``services/__init__.py`` + the one service package, at their import paths."""
    files: list[Path] = [service_package.parent / "__init__.py"]
    for package in (*(ROOT / name for name in COMMON_PACKAGES), service_package):
        package_name = ".".join(package.relative_to(ROOT).parts)
        files.extend(_package_files(package, project.package_data.get(package_name, [])))
    for file in files:
        destination = code_dir / file.relative_to(ROOT)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, destination)


def _install_dependencies(project: Project, target: Target, layer_dir: Path) -> None:
    """``pip install --target LAYER/python`` of the pinned dependencies, binary wheels for the target only."""
    site = layer_dir / "python"
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--only-binary=:all:",
        "--target",
        str(site),
        *target.pip_platform_options(),
        *project.dependencies,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"pip install failed ({' '.join(command)}):\n{result.stdout}{result.stderr}")
    shutil.rmtree(site / "bin", ignore_errors=True)  # console scripts: nothing runs them in a function


def _compile(interpreter: str, folders: Sequence[Path]) -> None:
    """Unchecked-hash ``.pyc`` for every module: valid whatever the files' timestamps after zipping."""
    command = [interpreter, "-m", "compileall", "-q", "-f", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    result = subprocess.run([*command, *map(str, folders)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"compileall failed:\n{result.stdout}{result.stderr}")


def _prepare_out(out: Path) -> None:
    """Empty ``out`` - only if it is new, empty or a previous build (it holds a ``template.yaml``)."""
    if out.exists() and any(out.iterdir()) and not (out / "template.yaml").is_file():
        raise BuildError(f"{out} is not empty and not a previous build; refusing to delete it")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)


def build(*, out: Path, platform_name: PlatformName, template_path: Path = TEMPLATE_PATH) -> Artifacts:
    """Build every function and layer of the template into ``out`` and write ``out/template.yaml``."""
    # Only the raw document and its resource views are used: nothing is resolved, so the stack name is irrelevant.
    template = load_template(stack_name="build", region="build", path=template_path)
    globals_ = template.document.get("Globals", {}).get("Function", {})
    functions = template.functions()
    layers = template.of_type("AWS::Serverless::LayerVersion")
    target = Target.lambda_runtime(functions, globals_) if platform_name is PlatformName.LAMBDA else Target.host()
    project = Project.read()
    _prepare_out(out)

    for layer_id, props in layers.items():
        if _source_path(props.get("ContentUri"), template_path) != PYPROJECT:
            raise BuildError(f"{layer_id}: ContentUri must name pyproject.toml (its dependencies are the layer)")
        _say(f"{layer_id}: pip install {len(project.dependencies)} pinned dependencies for {target.description}")
        _install_dependencies(project, target, out / layer_id)

    artifacts: dict[str, FunctionArtifact] = {}
    for function_id, props in functions.items():
        layer_ids = _layer_ids(props, globals_)
        if unknown := set(layer_ids) - set(layers):
            raise BuildError(f"{function_id}: references layers that are not in the template: {unknown}")
        code_dir = out / function_id
        _copy_function_code(_service_package(function_id, props, template_path), project, code_dir)
        artifacts[function_id] = FunctionArtifact(function_id, props["Handler"], code_dir, layer_ids)

    interpreter = target.interpreter()
    if interpreter is None:
        _say(
            f"WARNING: no working python{target.python_version} on PATH, so .pyc were NOT precompiled: the runtime "
            "will compile every module at every cold start. Put one on PATH and build again."
        )
    else:
        _compile(interpreter, [out / layer_id for layer_id in layers] + [a.code_dir for a in artifacts.values()])

    built = copy.deepcopy(template.document)
    for function_id in functions:
        built["Resources"][function_id]["Properties"]["CodeUri"] = function_id
    for layer_id in layers:
        built["Resources"][layer_id]["Properties"]["ContentUri"] = layer_id
    (out / "template.yaml").write_text(yaml.safe_dump(built, sort_keys=False, allow_unicode=True, width=120))
    return Artifacts(
        out=out,
        target=target,
        functions=artifacts,
        layers={layer_id: out / layer_id for layer_id in layers},
        compiled_with=interpreter,
    )


# ---------------------------------------------------------------- sizes
def tree_size(path: Path) -> int:
    """Bytes of every file under ``path`` (what Lambda counts as unzipped size)."""
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def canonical_name(name: str) -> str:
    """A distribution name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_closure(site: Path, root: str) -> dict[str, Distribution]:
    """``root`` and every distribution it requires (transitively, extras excluded) installed in ``site``."""
    installed = {canonical_name(dist.metadata["Name"]): dist for dist in distributions(path=[str(site)])}
    closure: dict[str, Distribution] = {}
    pending = [canonical_name(root)]
    while pending:
        name = pending.pop()
        if name in closure or name not in installed:
            continue
        closure[name] = installed[name]
        for requirement in installed[name].requires or []:
            match = REQUIREMENT_NAME.match(requirement)
            if match and "extra ==" not in requirement:
                pending.append(canonical_name(match.group()))
    return closure


def distribution_size(site: Path, dist: Distribution) -> int:
    """Bytes of a distribution's installed files plus the ``.pyc`` compiled for its modules."""
    size = 0
    for relative in dist.files or []:
        file = site / relative
        if file.is_file():
            size += file.stat().st_size
        if file.suffix == ".py":
            size += sum(pyc.stat().st_size for pyc in (file.parent / "__pycache__").glob(f"{file.stem}.*.pyc"))
    return size


@dataclass(frozen=True)
class LayerSize:
    """A layer's unzipped bytes, and how many of them the SDK (boto3 and what it requires) takes."""

    total: int
    sdk: int
    sdk_distributions: tuple[str, ...]


@dataclass(frozen=True)
class FunctionSize:
    """A function's unzipped bytes: its code, its layers, and the SDK's share of the layers."""

    code: int
    layers: int
    sdk: int

    @property
    def total(self) -> int:
        return self.code + self.layers

    @property
    def without_sdk(self) -> int:
        return self.total - self.sdk


@dataclass(frozen=True)
class Sizes:
    """Unzipped sizes of a build, per function and per layer."""

    functions: dict[str, FunctionSize]
    layers: dict[str, LayerSize]


def measure(artifacts: Artifacts) -> Sizes:
    """Unzipped sizes of every function (code and layers apart) and layer (with and without the SDK)."""
    layers = {}
    for layer_id, folder in artifacts.layers.items():
        sdk = distribution_closure(folder / "python", SDK_DISTRIBUTION)
        layers[layer_id] = LayerSize(
            total=tree_size(folder),
            sdk=sum(distribution_size(folder / "python", dist) for dist in sdk.values()),
            sdk_distributions=tuple(sorted(sdk)),
        )
    functions = {
        function_id: FunctionSize(
            code=tree_size(function.code_dir),
            layers=sum(layers[layer_id].total for layer_id in function.layer_ids),
            sdk=sum(layers[layer_id].sdk for layer_id in function.layer_ids),
        )
        for function_id, function in sorted(artifacts.functions.items())
    }
    return Sizes(functions=functions, layers=layers)


def size_report(artifacts: Artifacts, sizes: Sizes) -> str:
    """The sizes as a table, with what the build targeted and whether it precompiled."""
    compiled = f"precompiled with {artifacts.compiled_with}" if artifacts.compiled_with else "NOT precompiled"
    lines = [
        f"Unzipped sizes (MiB) for {artifacts.target.description}, .pyc {compiled}",
        f"{'function':<28} {'code':>6} {'layers':>7} {'total':>7} {'without boto3':>14}",
    ]
    for function_id, size in sizes.functions.items():
        lines.append(
            f"{function_id:<28} {size.code / MIB:>6.2f} {size.layers / MIB:>7.1f} {size.total / MIB:>7.1f} "
            f"{size.without_sdk / MIB:>14.1f}"
        )
    for layer_id, layer in sizes.layers.items():
        lines.append(
            f"layer {layer_id}: {layer.total / MIB:.1f} MiB; {(layer.total - layer.sdk) / MIB:.1f} MiB without "
            f"{', '.join(layer.sdk_distributions)} ({layer.sdk / MIB:.1f} MiB)"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tooling.build [--out DIR] [--platform lambda|host]``."""
    parser = argparse.ArgumentParser(prog="python -m tooling.build", description="Build every function's artifact.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: .aws-sam/build)")
    parser.add_argument(
        "--platform",
        type=PlatformName,
        choices=list(PlatformName),
        default=PlatformName.LAMBDA,
        help="lambda: the template's runtime and architecture (default); host: this interpreter and machine",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        artifacts = build(out=args.out.resolve(), platform_name=args.platform)
    except BuildError as error:
        _say(f"build failed: {error}")
        return 1
    _say(size_report(artifacts, measure(artifacts)))
    _say(f"Built {len(artifacts.functions)} functions in {artifacts.out} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
