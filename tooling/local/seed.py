"""Demo data for a newcomer's first ``make dev``: region 54 (Новосибирская область) through the public API.

Five institutions (administration, school, hospital, library, culture house) with valid INN/OGRN and six VK pages
with callback settings. ``DEMO_PAGES`` lists each page's community id, callback secret and confirmation code, so
``gospubliki demo`` (appeals) can sign VK events the webhook accepts:

=========  ============================  ==================
group_id   secret                        confirmation code
=========  ============================  ==================
201077021  demo-secret-201077021         d8v2ve07
201077022  demo-secret-201077022         a1b2c3d4
201077023  demo-secret-201077023         e5f6a7b8
201077024  demo-secret-201077024         c9d0e1f2
201077025  demo-secret-201077025         a3b4c5d6
201077026  demo-secret-201077026         e7f8a9b0
=========  ============================  ==================
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, NamedTuple

DEMO_REGION = "54"


class DemoPage(NamedTuple):
    """A seeded VK community and its callback settings."""

    group_id: int
    secret: str
    confirmation_code: str
    institution: str
    category: str


def _inn(body: str) -> str:
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return body + str(sum(w * int(d) for w, d in zip(weights, body, strict=True)) % 11 % 10)


def _ogrn(body: str) -> str:
    return body + str(int(body) % 11 % 10)


DEMO_INSTITUTIONS: dict[str, dict[str, Any]] = {
    "administration": {
        "name": "Администрация Искитимского района Новосибирской области",
        "short_name": "Администрация Искитимского района",
        "level": "municipal",
        "kind": "administration",
        "spheres": ["administration"],
    },
    "school": {
        "name": "МБОУ «Средняя общеобразовательная школа № 1» г. Искитима",
        "short_name": "СОШ № 1 г. Искитима",
        "level": "municipal",
        "kind": "school",
        "spheres": ["education", "youth"],
    },
    "hospital": {
        "name": "ГБУЗ НСО «Искитимская центральная городская больница»",
        "short_name": "Искитимская ЦГБ",
        "level": "regional",
        "kind": "hospital",
        "spheres": ["healthcare"],
    },
    "library": {
        "name": "МКУК «Централизованная библиотечная система» г. Искитима",
        "short_name": "ЦБС г. Искитима",
        "level": "municipal",
        "kind": "library",
        "spheres": ["culture"],
    },
    "culture": {
        "name": "МБУК «Городской дом культуры им. Л. Н. Коляды»",
        "short_name": "ГДК Искитим",
        "level": "municipal",
        "kind": "culture",
        "spheres": ["culture", "youth"],
    },
}
for _serial, _data in enumerate(DEMO_INSTITUTIONS.values(), start=1):
    _data.update(
        inn=_inn(f"5446{_serial:05d}"),
        ogrn=_ogrn(f"10254{_serial:07d}"),
        region_code=DEMO_REGION,
        oktmo="50715000",
        municipality="г. Искитим",
    )

DEMO_PAGES: tuple[DemoPage, ...] = (
    DemoPage(201077021, "demo-secret-201077021", "d8v2ve07", "administration", "flagship"),
    DemoPage(201077022, "demo-secret-201077022", "a1b2c3d4", "school", "active"),
    DemoPage(201077023, "demo-secret-201077023", "e5f6a7b8", "hospital", "active"),
    DemoPage(201077024, "demo-secret-201077024", "c9d0e1f2", "library", "card"),
    DemoPage(201077025, "demo-secret-201077025", "a3b4c5d6", "culture", "active"),
    DemoPage(201077026, "demo-secret-201077026", "e7f8a9b0", "administration", "active"),
)


def _call(base_url: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{base_url.rstrip('/')}{path}",
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def seed_demo(*, base_url: str, state_dir: Path) -> None:
    """Create the demo region's institutions and pages through the public API (safe to run again)."""
    from tooling.local.keys import issue_token

    token = issue_token(state_dir, role="federal_admin")
    ids: dict[str, str] = {}
    for key, data in DEMO_INSTITUTIONS.items():
        status, body = _call(base_url, token, "POST", "/registry/institutions", data)
        if status == 201:
            ids[key] = body["id"]
        elif status == 409:
            ids[key] = body["message"].rsplit("institution ", 1)[-1].rstrip(")")
        else:
            raise RuntimeError(f"seeding {key} failed: HTTP {status} {body}")
    for page in DEMO_PAGES:
        status, body = _call(
            base_url,
            token,
            "POST",
            f"/registry/institutions/{ids[page.institution]}/pages",
            {
                "platform": "vk",
                "group_id": page.group_id,
                "url": f"https://vk.com/club{page.group_id}",
                "category": page.category,
                "checklist": {"name_matches": True, "avatar": True, "cover": True, "gov_mark": True},
                "callback": {"confirmation_code": page.confirmation_code, "secret": page.secret},
            },
        )
        if status not in (201, 409):
            raise RuntimeError(f"seeding page {page.group_id} failed: HTTP {status} {body}")
