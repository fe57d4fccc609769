"""``gospubliki import`` / ``gospubliki export``: move a region's registry spreadsheet through the HTTP API.

The token is ``--token`` (or ``GOSPUBLIKI_TOKEN``); without one, a federal_admin token for the local stack is minted
from the ``--state`` folder. Upload progress goes to stderr; the report is printed as a table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import mimetypes
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tooling.cli.errors import CliError

CHUNK = 64 * 1024


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    upload = commands.add_parser("import", help="import a region's XLSX/CSV registry through the API")
    upload.add_argument("file", type=Path)
    upload.add_argument("--region", required=True, help="2-digit subject code")
    upload.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
    _connection_options(upload)
    upload.set_defaults(run=run_import)

    download = commands.add_parser("export", help="export a region's registry as XLSX/CSV")
    download.add_argument("--region", required=True, help="2-digit subject code")
    download.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    download.add_argument("-o", "--output", type=Path, help="file to write (default registry-<region>.<format>)")
    _connection_options(download)
    download.set_defaults(run=run_export)


def _connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="API base URL")
    parser.add_argument("--token", default=os.environ.get("GOSPUBLIKI_TOKEN"), help="bearer token")
    parser.add_argument("--state", type=Path, default=Path(".local"), help="local stack state (to mint a token)")


def _token(args: argparse.Namespace) -> str:
    if args.token:
        return str(args.token)
    from tooling.local.keys import issue_token

    return issue_token(args.state, role="federal_admin")


class _Upload:
    """A multipart body streamed in chunks, printing the percentage sent to stderr."""

    def __init__(self, path: Path) -> None:
        self.boundary = uuid.uuid4().hex
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self.head = (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
            f"Content-Type: {media}\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.path = path
        self.length = len(self.head) + path.stat().st_size + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        yield self.head
        with self.path.open("rb") as source:
            while chunk := source.read(CHUNK):
                sent += len(chunk)
                _progress(sent, self.path.stat().st_size)
                yield chunk
        yield self.tail
        print("\nuploaded, the server is processing the rows ...", file=sys.stderr, flush=True)


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * done // max(total, 1):3d}%", end="", file=sys.stderr)


def _request(request: urllib.request.Request) -> Any:
    try:
        return urllib.request.urlopen(request, timeout=900)
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", errors="replace")
        with contextlib.suppress(ValueError):
            detail = json.loads(detail).get("message", detail)
        raise CliError(f"gospubliki: HTTP {error.code}: {detail}") from None
    except urllib.error.URLError as error:
        raise CliError(f"gospubliki: cannot reach {request.full_url}: {error.reason}") from None


def format_report(report: dict[str, Any]) -> str:
    """The import report as a plain-text table."""
    lines = [
        f"{'dry run' if report['dry_run'] else 'import'}: {report['rows']} rows",
        f"  created    {report['created']:>7}",
        f"  updated    {report['updated']:>7}",
        f"  unchanged  {report['unchanged']:>7}",
        f"  skipped    {report['skipped']:>7}",
    ]
    errors = report.get("errors") or []
    if errors:
        width = max(len(str(e.get("column") or "")) for e in errors)
        width = max(width, len("column"))
        lines += ["", f"{'row':>6}  {'column':<{width}}  message", f"{'-' * 6}  {'-' * width}  {'-' * 40}"]
        lines += [f"{e['row']:>6}  {str(e.get('column') or ''):<{width}}  {e['message']}" for e in errors]
    return "\n".join(lines)


def run_import(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise CliError(f"gospubliki import: no such file {args.file}")
    query = urllib.parse.urlencode({"region": args.region, "dry_run": str(args.dry_run).lower()})
    body = _Upload(args.file)
    request = urllib.request.Request(
        f"{args.url.rstrip('/')}/registry/import?{query}",
        data=iter(body),
        method="POST",
        headers={
            "Authorization": f"Bearer {_token(args)}",
            "Content-Type": f"multipart/form-data; boundary={body.boundary}",
            "Content-Length": str(body.length),
        },
    )
    with _request(request) as response:
        report = json.loads(response.read())
    print(format_report(report))
    return 1 if report["errors"] else 0


def run_export(args: argparse.Namespace) -> int:
    query = urllib.parse.urlencode({"region": args.region, "format": args.format})
    request = urllib.request.Request(
        f"{args.url.rstrip('/')}/registry/export?{query}", headers={"Authorization": f"Bearer {_token(args)}"}
    )
    output = args.output or Path(f"registry-{args.region}.{args.format}")
    with _request(request) as response, output.open("wb") as target:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        while chunk := response.read(CHUNK):
            target.write(chunk)
            done += len(chunk)
            if total:
                _progress(done, total)
    print(f"\nwrote {output} ({done} bytes)", file=sys.stderr)
    return 0
