"""Benchmark: import of a 10,000-row XLSX in one request against the local stack.

Prints rows/s, DynamoDB requests per row (counted with a botocore hook on the process-wide client: the stack runs
in-process) and, measured in the same run against the same moto server, the rows/s of a plain ``batch_write_item``
of the same number of items, with the ratio. Run: ``.venv/bin/python bench/registry_import.py [ROWS]``.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

DEFAULT_ROWS = 10_000
REGION = "54"


def inn(serial: int) -> str:
    body = f"{REGION}{serial:07d}"
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return body + str(sum(w * int(d) for w, d in zip(weights, body, strict=True)) % 11 % 10)


def ogrn(serial: int) -> str:
    body = f"1{REGION}{serial:09d}"
    return body + str(int(body) % 11 % 10)


def workbook(rows: int) -> bytes:
    """A regional sheet: one institution and its VK page per row."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Реестр")
    sheet.append(
        ["Наименование", "ИНН", "ОГРН", "Тип учреждения", "Сфера", "Ссылка на страницу ВК", "Категория", "Госметка"]
    )
    kinds = [("Школа", "Образование"), ("Библиотека", "Культура"), ("Больница", "Здравоохранение")]
    for n in range(1, rows + 1):
        kind, sphere = kinds[n % 3]
        category = ("Активный", "Визитка", "Флагманский")[n % 3]
        sheet.append(
            [
                f"Учреждение № {n}",
                inn(n),
                ogrn(n),
                kind,
                sphere,
                f"https://vk.com/club{300_000 + n}",
                category,
                "да" if n % 2 else "нет",
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def multipart(content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = 'Content-Disposition: form-data; name="file"; filename="bench.xlsx"'
    head = f"--{boundary}\r\n{disposition}\r\nContent-Type: {media}\r\n\r\n"
    return head.encode() + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def main(rows: int = DEFAULT_ROWS) -> int:
    import json

    from shared.aws import dynamodb
    from shared.config import get_settings
    from shared.dynamo import chunked, serialize
    from tooling.local.keys import issue_token
    from tooling.local.stack import LocalStack, StackOptions, free_port

    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(
            StackOptions(
                state_dir=Path(state),
                port=free_port(),
                run_schedules=False,
                dispatch=False,
                snapshot_every_seconds=3600,
            )
        )
        stack.start()
        try:
            calls: Counter[str] = Counter()

            def count(**kwargs: Any) -> None:
                calls[kwargs["model"].name] += 1

            client = dynamodb()
            client.meta.events.register("before-call.dynamodb", count)
            started = time.perf_counter()
            content = workbook(rows)
            print(f"generated {rows} rows ({len(content) / 1e6:.1f} MB XLSX) in {time.perf_counter() - started:.1f} s")

            body, content_type = multipart(content)
            token = issue_token(Path(state), role="federal_admin")
            request = urllib.request.Request(
                f"{stack.base_url}/registry/import?region={REGION}",
                data=body,
                method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
            )
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=600) as response:
                report = json.loads(response.read())
            elapsed = time.perf_counter() - started
            import_calls = sum(calls.values())
            assert report["created"] == rows and not report["errors"], report
            import_rate = rows / elapsed
            print(f"import: {rows} rows in {elapsed:.1f} s = {import_rate:,.0f} rows/s")
            print(f"  DynamoDB requests: {import_calls} = {import_calls / rows:.3f} per row ({dict(calls)})")
            print("  (events of a large import are published by the outbox relay within a minute, not in the request)")

            calls.clear()
            table = get_settings().registry_table
            items = [serialize({"PK": f"BENCH#{n}", "SK": "A", "n": n}) for n in range(rows)]
            started = time.perf_counter()
            for chunk in chunked(items, 25):
                request_items: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
                while request_items:
                    request_items = dict(
                        client.batch_write_item(RequestItems=request_items).get("UnprocessedItems") or {}
                    )
            baseline = rows / (time.perf_counter() - started)
            print(
                f"baseline batch_write_item: {rows} items at {baseline:,.0f} items/s ({sum(calls.values())} requests)"
            )
            print(f"import / baseline: {import_rate / baseline:.2f}x")

        finally:
            stack.stop(save=False)  # the bench's state is thrown away; a snapshot of 60k items takes minutes
    return 0


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS))
