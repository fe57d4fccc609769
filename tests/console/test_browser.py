"""The console in a real browser (headless Chromium) on the whole local stack with the demo region seeded.

Each screen is saved under ``test-artifacts/console/``. The fields the screens read from every response are
collected as the tests go and checked against the stack's OpenAPI at the end.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import datetime
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
from tooling.local.seed import DEMO_PAGES, seed_demo
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

    def comment(self, text: str, **object_fields: Any) -> dict[str, Any]:
        """Send a citizen's comment as VK does and wait until it is an appeal of region 54."""
        page = DEMO_PAGES[0]
        envelope = wall_comment(page.group_id, page.secret, text, **object_fields)
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
