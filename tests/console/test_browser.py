"""The console in a real browser (headless Chromium) on the whole local stack with the demo region seeded.

Each screen is saved under ``test-artifacts/console/``. The fields the screens read from every response are
collected as the tests go and checked against the stack's OpenAPI at the end.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import wait_for
from tests.console.conftest import screenshot
from tests.console.contract import contract, field_exists, find_operation, response_schema
from tests.factories import wall_comment
from tooling.local import keys
from tooling.local.seed import DEMO_PAGES, DemoPage, seed_demo
from tooling.local.stack import LocalStack

READS: set[str] = set()


class Demo:
    """The seeded stack, an API client per role and a way to replay VK comments."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.base = stack.base_url
        self.vk = httpx.Client(base_url=self.base, timeout=30)
        self.clients = {
            role: httpx.Client(
                base_url=self.base,
                timeout=30,
                headers={"Authorization": f"Bearer {keys.issue_token(stack.state_dir, role=role, region='54')}"},
            )
            for role in ("regional_admin", "operator")
        }

    def comment(self, text: str, *, vk_page: DemoPage = DEMO_PAGES[0], **object_fields: Any) -> dict[str, Any]:
        """Send a citizen's comment as VK does (to the first demo page unless told) and wait until it is an appeal of
        region 54."""
        envelope = wall_comment(vk_page.group_id, vk_page.secret, text, **object_fields)
        wait_for(lambda: self.vk.post("/vk/callback", json=envelope).text == "ok", timeout=30)

        def listed() -> dict[str, Any] | None:
            items = self.clients["operator"].get("/appeals", params={"region": "54", "limit": 100}).json()["items"]
            return next((item for item in items if item["text"] == text), None)

        found: dict[str, Any] = wait_for(listed, timeout=30)
        return found

    def close(self) -> None:
        for client in [self.vk, *self.clients.values()]:
            client.close()


@pytest.fixture(scope="module")
def demo(local_stack: LocalStack) -> Iterator[Demo]:
    seed_demo(base_url=local_stack.base_url, state_dir=local_stack.state_dir)
    world = Demo(local_stack)
    yield world
    world.close()


def sign_in(page: Any, base: str, role: str, *, region: str = "54") -> None:
    """The local sign-in form: pick a role and region, press «Войти»."""
    page.goto(f"{base}/")
    page.locator('select[name="role"]').select_option(role)
    if role != "federal_admin":
        page.locator('select[name="region"]').select_option(region)
    page.get_by_role("button", name="Войти").click()
    page.get_by_test_id("who-role").wait_for()


def collect_reads(page: Any) -> None:
    READS.update(page.evaluate("[...window.__apiReads]"))


def test_operator_sees_a_replayed_vk_comment_in_the_inbox_and_opens_it(page: Any, demo: Demo) -> None:
    first = demo.comment("Когда отремонтируют дорогу на ул. Ленина? Яма у дома 5 уже месяц.")
    page.goto(f"{demo.base}/")
    screenshot(page, "01-sign-in")
    sign_in(page, demo.base, "operator")
    appeals = page.get_by_test_id("appeal-list")
    appeals.get_by_text(first["text"]).wait_for()
    assert page.get_by_test_id("who-role").inner_text() == "Оператор ЦУР"

    second = demo.comment("Во дворе на ул. Мира не горит освещение, вечером страшно идти.")
    row = page.locator(f'[data-appeal-id="{second["id"]}"]')
    row.wait_for(timeout=20_000)  # appears without a reload
    assert "Новое в списке" in row.inner_text()
    screenshot(page, "02-inbox")

    page.locator('.filters select[name="rubric"]').select_option("roads_transport")
    page.locator(f'[data-appeal-id="{second["id"]}"]').wait_for(state="detached")

    page.locator(f'[data-appeal-id="{first["id"]}"]').focus()
    page.keyboard.press("Enter")
    assert page.get_by_test_id("appeal-text").inner_text().startswith(first["text"])
    assert page.get_by_test_id("appeal-status").inner_text() == "Новое"
    page.get_by_text("Открыть во ВКонтакте").wait_for()
    page.locator("dd", has_text="Администрация Искитимского района").wait_for()
    assert page.get_by_role("button", name="Сохранить классификацию").is_visible()
    screenshot(page, "03-appeal")

    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("link", name="← К списку").click()
    page.get_by_test_id("appeal-list").wait_for()
    screenshot(page, "04-inbox-phone")
    collect_reads(page)


def _reply_from_the_console(page: Any, demo: Demo, text: str) -> dict[str, Any]:
    """A new appeal on the first demo page (its community token set), opened by an operator who sends ``text``."""
    demo_page = DEMO_PAGES[0]
    demo.vk.post("/_local/vk/secrets", json={"group_id": demo_page.group_id, "secret": demo_page.secret})
    post_id = uuid.uuid4().int % 1_000_000  # a thread of its own: a citizen writing again would reopen an answer
    appeal = demo.comment(f"Почему не вывозят мусор на ул. Садовой? ({post_id})", post_id=post_id)
    token = {"access_token": "vk1.a.console-test-token"}
    assert demo.clients["regional_admin"].put(f"/registry/pages/{appeal['page_id']}/vk-token", json=token).is_success
    sign_in(page, demo.base, "operator")
    page.goto(f"{demo.base}/console/#/appeals/{appeal['id']}")
    page.get_by_label("Текст ответа").fill(text)
    page.get_by_role("button", name="Отправить во ВКонтакте").click()
    return appeal


def test_operator_replies_and_sees_the_appeal_answered_after_the_vk_echo(page: Any, demo: Demo) -> None:
    _reply_from_the_console(page, demo, "Здравствуйте! Вывоз мусора восстановлен, график на сайте администрации.")
    page.get_by_test_id("reply-state").wait_for()
    page.get_by_test_id("appeal-status").filter(has_text="Отвечено").wait_for(timeout=45_000)
    page.locator('[data-reply-state="sent"]').wait_for()
    screenshot(page, "05-appeal-answered")
    collect_reads(page)


def test_a_reply_vk_refuses_shows_vks_reason(page: Any, demo: Demo) -> None:
    demo.vk.post("/_local/vk/failures", json={"method": "wall.createComment", "errors": [15]})
    _reply_from_the_console(page, demo, "Здравствуйте! Проверим и ответим до пятницы.")
    refused = page.locator('[data-reply-state="failed"]')
    refused.wait_for(timeout=45_000)
    assert "комментарии закрыты" in refused.get_by_role("alert").inner_text()
    assert page.get_by_test_id("appeal-status").inner_text() != "Отвечено"
    screenshot(page, "05b-reply-refused")


def test_portal_sees_no_write_controls_and_a_clear_message_for_appeals(page: Any, demo: Demo) -> None:
    sign_in(page, demo.base, "portal")
    assert page.get_by_role("link", name="Обращения").count() == 0
    table = page.get_by_test_id("pages-table")
    table.wait_for()
    table.get_by_role("button", name="Чек-лист").first.click()
    page.locator(".checklist input").first.wait_for()
    assert page.locator(".checklist input:disabled").count() == len(page.locator(".checklist input").all())
    assert page.locator(".checklist input:enabled").count() == 0
    screenshot(page, "06-portal-registry")

    for screen in ("registry/institutions", "registry/coverage", "registry/import", "dashboard"):
        page.goto(f"{demo.base}/console/#/{screen}")
        page.locator("main h1").wait_for()
        page.wait_for_load_state("networkidle")
        assert page.locator("[data-write]").count() == 0, screen
        assert page.get_by_role("button", name="Сохранить").count() == 0, screen
    page.goto(f"{demo.base}/console/#/registry/import")
    page.get_by_text("Импорт доступен региональным администраторам").wait_for()

    page.goto(f"{demo.base}/console/#/inbox")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "Недостаточно прав" in alert.inner_text()
    screenshot(page, "07-portal-appeals-403")
    collect_reads(page)


def _broken_spreadsheet(demo: Demo, folder: Path) -> tuple[Path, int]:
    """The region's export as CSV plus one row with a 3-digit INN; the file and that row's number."""
    exported = demo.clients["regional_admin"].get("/registry/export", params={"region": "54", "format": "csv"})
    assert exported.status_code == 200, exported.text
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    header, broken = rows[0], list(rows[1])
    broken[header.index("ИНН")] = "123"
    broken[header.index("ОГРН")] = "1025400000999"
    broken[header.index("Ссылка на страницу ВК")] = "https://vk.com/club209999999"
    broken[header.index("ID сообщества")] = "209999999"
    rows.append(broken)
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows(rows)
    path = folder / "registry-54.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path, len(rows)


def test_regional_admin_imports_a_spreadsheet_and_sees_the_broken_rows_error_next_to_it(
    page: Any, demo: Demo, tmp_path: Path
) -> None:
    spreadsheet, broken_row = _broken_spreadsheet(demo, tmp_path)
    sign_in(page, demo.base, "regional_admin")
    page.get_by_role("link", name="Реестр").click()
    page.get_by_role("link", name="Импорт и экспорт").click()
    page.get_by_label("Файл XLSX или CSV").set_input_files(str(spreadsheet))
    assert page.get_by_label("Только проверить, ничего не менять").is_checked()
    page.get_by_role("button", name="Проверить").click()
    page.get_by_test_id("import-report").wait_for()
    assert page.get_by_test_id("import-progress").get_attribute("value") == "1"

    row = page.locator(f'tr[data-row="{broken_row}"]')
    assert "row-error" in (row.get_attribute("class") or "")
    assert "ИНН" in row.inner_text()
    assert "must have 10 digits" in row.inner_text()
    assert page.locator("tr.row-error").count() == 1
    assert "без изменений" in page.locator('tr[data-row="2"]').inner_text()
    row.scroll_into_view_if_needed()
    screenshot(page, "08-import-errors")
    collect_reads(page)


def test_dashboard_and_registry_show_the_region(page: Any, demo: Demo) -> None:
    sign_in(page, demo.base, "operator")
    page.get_by_role("link", name="Показатели").click()
    kpis = page.get_by_test_id("kpis")
    kpis.wait_for()
    kpis.locator('[data-kpi="pages"] .kpi-value').filter(has_text="6").wait_for()
    page.locator('canvas[aria-label="Активность по дням"]').wait_for()
    page.locator('canvas[aria-label="Страницы по проценту соответствия"]').wait_for()
    page.get_by_test_id("appeals-kpis").locator('[data-kpi="appeals_new"]').wait_for()
    page.wait_for_load_state("networkidle")
    screenshot(page, "09-dashboard")

    page.get_by_role("link", name="Реестр").click()
    page.get_by_test_id("pages-table").wait_for()
    page.get_by_role("button", name="Чек-лист").first.click()
    screenshot(page, "10-registry-pages")
    page.get_by_role("link", name="Покрытие").click()
    page.get_by_test_id("coverage-summary").wait_for()
    screenshot(page, "11-registry-coverage")
    collect_reads(page)


def test_dashboard_shows_the_metrics_dashboard_kpis_and_breakdowns(page: Any, demo: Demo) -> None:
    vk_page = DEMO_PAGES[0]  # another citizen under another post: a new appeal whatever the tests before sent
    text = "Когда отремонтируют дорогу на ул. Советской? Яма у школы уже две недели."
    envelope = wall_comment(vk_page.group_id, vk_page.secret, text, from_id=499047999, post_id=11)
    wait_for(lambda: demo.vk.post("/vk/callback", json=envelope).text == "ok", timeout=30)
    operator = demo.clients["operator"]

    def rolled_up() -> dict[str, Any] | None:
        demo.stack.scheduler.fire("MetricsRollupFunction")  # the hourly run: each region's current day
        board: dict[str, Any] = operator.get("/metrics/regions/54/dashboard", params={"period": "week"}).json()
        return board if board["kpis"]["appeals_new"] >= 1 else None

    board = wait_for(rolled_up, timeout=60, interval=1)
    sign_in(page, demo.base, "operator")
    page.get_by_role("link", name="Показатели").click()
    appeals = page.get_by_test_id("appeals-kpis")
    expected = str(board["kpis"]["appeals_new"])
    appeals.locator('[data-kpi="appeals_new"] .kpi-value').filter(has_text=expected).wait_for()
    assert page.get_by_test_id("period-label").inner_text().startswith(board["label"])
    municipality = page.get_by_test_id("by-municipality").locator('tr[data-key="50715000"]')  # г. Искитим
    municipality.wait_for()
    assert expected in municipality.inner_text()
    page.get_by_test_id("by-kind").wait_for()
    page.get_by_test_id("page-rating").wait_for()
    page.get_by_test_id("region-rating").get_by_role("cell", name="54", exact=True).wait_for()
    page.locator('canvas[aria-label="Обращения по дням: новые и решённые"]').wait_for()
    page.wait_for_load_state("networkidle")
    screenshot(page, "12-dashboard-metrics")

    page.locator('select[name="period"]').select_option("month")
    month = datetime.now(ZoneInfo("Asia/Novosibirsk")).strftime("%Y-%m")
    page.get_by_test_id("period-label").filter(has_text=f"{month}:").wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name="Недельный отчёт (XLSX)").click()
    assert download.value.suggested_filename == "weekly-report-54.xlsx"
    collect_reads(page)


def _shown(value: str, zone: str) -> str:
    """An instant as the console shows it (``Intl`` ru-RU): ``03.11.2026, 10:00`` in ``zone``."""
    return datetime.fromisoformat(value).astimezone(ZoneInfo(zone)).strftime("%d.%m.%Y, %H:%M")


def _formal_appeal(demo: Demo, text: str, *, register: str | None = None) -> dict[str, Any]:
    """A new appeal in a thread of its own, escalated under 59-ФЗ through the API (and registered as ``register``)."""
    post_id = uuid.uuid4().int % 1_000_000
    appeal = demo.comment(f"{text} ({post_id})", post_id=post_id)
    operator = demo.clients["operator"]
    escalated = operator.post(f"/appeals/{appeal['id']}/status", json={"action": "escalate"})
    assert escalated.status_code == 200, escalated.text
    if register is None:
        return dict(escalated.json())
    registered = operator.post(f"/appeals/{appeal['id']}/registration", json={"number": register})
    assert registered.status_code == 200, registered.text
    return dict(registered.json())


def test_operator_escalates_registers_and_extends_a_59fz_appeal(page: Any, demo: Demo) -> None:
    demo_page = DEMO_PAGES[0]
    demo.vk.post("/_local/vk/secrets", json={"group_id": demo_page.group_id, "secret": demo_page.secret})
    post_id = uuid.uuid4().int % 1_000_000
    appeal = demo.comment(f"Прошу проверить управляющую компанию: подвал дома затоплен ({post_id})", post_id=post_id)
    token = {"access_token": "vk1.a.console-test-token"}
    assert demo.clients["regional_admin"].put(f"/registry/pages/{appeal['page_id']}/vk-token", json=token).is_success
    operator = demo.clients["operator"]
    sign_in(page, demo.base, "operator")
    page.goto(f"{demo.base}/console/#/appeals/{appeal['id']}")
    page.get_by_test_id("appeal-text").wait_for()
    assert page.get_by_test_id("formal-track").count() == 0, "no 59-ФЗ panel before the escalation"

    page.get_by_role("button", name="Обращение по 59-ФЗ").click()
    page.get_by_test_id("appeal-status").filter(has_text="Обращение по 59-ФЗ").wait_for()
    panel = page.get_by_test_id("formal-track")
    panel.wait_for()
    escalated = operator.get(f"/appeals/{appeal['id']}").json()
    zone, formal = escalated["time_zone"], escalated["formal"]
    assert panel.get_by_test_id("formal-escalated").inner_text() == _shown(formal["escalated_at"], zone)
    registration_due = panel.get_by_test_id("formal-registration-due").inner_text()
    assert _shown(formal["registration_due_at"], zone) in registration_due
    assert re.search(r"через (3 д|2 д 23 ч)", registration_due) and "Просрочено" not in registration_due
    assert panel.get_by_test_id("formal-number").inner_text() == "не зарегистрировано"
    assert zone in panel.get_by_test_id("appeal-zone").inner_text()
    assert "регистрация по 59-ФЗ" in page.get_by_test_id("appeal-deadline").inner_text()
    assert panel.get_by_role("button", name="Продлить срок").count() == 0, "extended only once registered"

    number = f"54-{post_id}"
    panel.get_by_label("Регистрационный номер").fill(number)
    panel.get_by_label("Дата и время регистрации").fill("2020-01-01T10:00")
    panel.get_by_role("button", name="Зарегистрировать").click()
    refused = panel.get_by_role("alert")
    refused.wait_for()
    assert refused.inner_text().startswith("Обращение не зарегистрировано. Неверные данные: registered_at")

    typed = (datetime.fromisoformat(formal["escalated_at"]).astimezone(ZoneInfo(zone)) + timedelta(minutes=1)).replace(
        second=0
    )
    panel.get_by_label("Дата и время регистрации").fill(typed.strftime("%Y-%m-%dT%H:%M"))
    panel.get_by_role("button", name="Зарегистрировать").click()
    panel.get_by_test_id("formal-number").filter(has_text=f"№ {number}").wait_for()
    assert panel.get_by_role("alert").count() == 0
    registered = operator.get(f"/appeals/{appeal['id']}").json()["formal"]
    assert datetime.fromisoformat(registered["registered_at"]) == typed, "the time typed, in the appeal's zone"
    assert panel.get_by_test_id("formal-registered").inner_text() == _shown(registered["registered_at"], zone)
    answer_due = _shown(registered["answer_due_at"], zone)
    assert answer_due in panel.get_by_test_id("formal-answer-due").inner_text()
    assert answer_due in panel.get_by_test_id("formal-result").inner_text()
    assert panel.get_by_role("button", name="Зарегистрировать").count() == 0

    notice = "Срок рассмотрения вашего обращения продлён на 10 дней: запрошены документы управляющей компании."
    panel.get_by_label("Дней (1–30)").fill("10")
    panel.get_by_label("Причина продления").fill("запрос документов в управляющей компании")
    panel.get_by_label("Уведомление жителю").fill(notice)
    panel.get_by_role("button", name="Продлить срок").click()
    panel.get_by_test_id("formal-extension").filter(has_text="на 10 дн.").wait_for()
    extended = operator.get(f"/appeals/{appeal['id']}").json()
    moved = datetime.fromisoformat(extended["formal"]["answer_due_at"]) - datetime.fromisoformat(
        registered["answer_due_at"]
    )
    assert moved == timedelta(days=10)
    assert _shown(extended["formal"]["answer_due_at"], zone) in panel.get_by_test_id("formal-answer-due").inner_text()
    assert "запрос документов в управляющей компании" in panel.get_by_test_id("formal-extension").inner_text()
    assert panel.get_by_role("button", name="Продлить срок").count() == 0, "59-ФЗ allows one extension"
    page.get_by_test_id("outgoing-replies").get_by_text(notice).wait_for()
    page.locator(".history").get_by_text(f"№ {number}").wait_for()
    page.locator(".history").get_by_text("Срок ответа по 59-ФЗ продлён").wait_for()
    assert page.get_by_test_id("appeal-status").inner_text() == "Обращение по 59-ФЗ"
    screenshot(page, "13-appeal-59fz")
    collect_reads(page)


def test_an_extension_made_meanwhile_refuses_the_forms_one_readably(page: Any, demo: Demo) -> None:
    appeal = _formal_appeal(demo, "Прошу проверить начисления за отопление в доме 12", register="54-ОГ-17")
    sign_in(page, demo.base, "operator")
    page.goto(f"{demo.base}/console/#/appeals/{appeal['id']}")
    panel = page.get_by_test_id("formal-track")
    panel.get_by_label("Дней (1–30)").fill("5")
    panel.get_by_label("Причина продления").fill("запрос в ресурсоснабжающую организацию")
    colleague = {"days": 7, "reason": "запрос в жилищную инспекцию"}
    meanwhile = demo.clients["operator"].post(f"/appeals/{appeal['id']}/extension", json=colleague)
    assert meanwhile.status_code == 200, meanwhile.text

    panel.get_by_role("button", name="Продлить срок").click()
    alert = panel.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text().startswith("Срок не продлён. Конфликт:")
    assert "extended already (by 7 days)" in alert.inner_text()
    panel.get_by_test_id("formal-extension").filter(has_text="на 7 дн.: запрос в жилищную инспекцию").wait_for()
    assert panel.get_by_role("button", name="Продлить срок").count() == 0, "the appeal was read again"
    assert alert.is_visible(), "the refusal stays shown after the form goes"
    screenshot(page, "14-appeal-59fz-conflict")
    collect_reads(page)


def test_a_missed_registration_deadline_is_highlighted(page: Any, demo: Demo) -> None:
    appeal = _formal_appeal(demo, "Прошу принять меры: во дворе дома 3 провалился асфальт")
    sign_in(page, demo.base, "operator")
    # Four days on by the browser's clock: the session is kept valid there (the API checks the token by its own).
    page.evaluate(
        """(key) => {
          const session = JSON.parse(sessionStorage.getItem(key));
          sessionStorage.setItem(key, JSON.stringify({ ...session, expiresAt: session.expiresAt + 10 * 86400 }));
        }""",
        "gospubliki.session",
    )
    page.clock.set_fixed_time(datetime.now(UTC) + timedelta(days=4))
    page.goto(f"{demo.base}/console/#/appeals/{appeal['id']}")
    page.reload()
    due = page.get_by_test_id("formal-registration-due")
    due.locator(".badge.overdue").filter(has_text="Просрочено").wait_for()
    assert "просрочено на 1 д" in due.inner_text()
    assert "overdue" in (due.get_attribute("class") or "")
    assert "просрочено на 1 д" in page.get_by_test_id("appeal-deadline").inner_text()
    assert "Просрочено" not in page.get_by_test_id("formal-answer-due").inner_text(), "its answer deadline waits"
    assert page.get_by_role("button", name="Зарегистрировать").is_visible(), "a late registration is still recorded"
    screenshot(page, "15-appeal-59fz-overdue")


def test_an_institutions_own_time_zone_shows_next_to_the_deadline(page: Any, demo: Demo) -> None:
    hospital = DEMO_PAGES[2]
    admin = demo.clients["regional_admin"]
    pages = admin.get("/registry/pages", params={"region": "54", "limit": 100}).json()["items"]
    institution_id = next(item["institution_id"] for item in pages if item["group_id"] == hospital.group_id)
    changed = admin.patch(f"/registry/institutions/{institution_id}", json={"time_zone": "Asia/Omsk"})
    assert changed.status_code == 200, changed.text

    def projected() -> bool:
        query = {"received_at": "2026-11-03T10:00:00+07:00", "institution_id": institution_id}
        deadline = demo.clients["operator"].get("/appeals/policies/54/deadline", params=query)
        return deadline.status_code == 200 and deadline.json()["due_at"].endswith("+06:00")

    wait_for(projected, timeout=30, interval=0.5)  # the registry's event reached the appeals service
    post_id = uuid.uuid4().int % 1_000_000
    text = f"Когда в поликлинике начнёт работать окулист? ({post_id})"
    appeal = demo.comment(text, vk_page=hospital, post_id=post_id)
    assert appeal["time_zone"] == "Asia/Omsk"
    sign_in(page, demo.base, "operator")
    page.goto(f"{demo.base}/console/#/appeals/{appeal['id']}")
    note = page.get_by_test_id("appeal-zone")
    note.filter(has_text="часовой пояс учреждения").wait_for()
    assert note.inner_text() == "Время: Asia/Omsk — часовой пояс учреждения (в регионе Asia/Novosibirsk)"
    assert page.get_by_test_id("appeal-deadline").inner_text().startswith(_shown(appeal["due_at"], "Asia/Omsk"))
    screenshot(page, "16-appeal-own-time-zone")
    collect_reads(page)


def test_every_field_the_screens_read_is_in_the_openapi(demo: Demo) -> None:
    if not READS:
        pytest.skip("run with the browser tests above: they record what the screens read")
    spec = demo.vk.get("/openapi.json").json()
    operations = contract()
    unknown = []
    for read in sorted(READS):
        op_id, _, path = read.partition(":")
        entry = operations.get(op_id)
        operation = entry and find_operation(spec, entry["method"], entry["path"])
        schema = operation and response_schema(operation)
        if not schema or not field_exists(spec, schema, path):
            unknown.append(read)
    assert unknown == []
