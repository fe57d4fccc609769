"""Projection of registry pages: newest revision wins, archived pages and moved group ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.appeals.bootstrap import repository
from shared.events import InstitutionUpserted, PageArchived, make_event
from tests.appeals.conftest import GROUP_ID, page_upserted

Run = Callable[..., dict[str, Any]]


def test_newer_revision_wins_and_stale_or_out_of_order_events_are_ignored(run_projection: Run) -> None:
    newest = make_event("registry", page_upserted(revision=3, confirmation_code="new"))
    run_projection(newest)
    run_projection(make_event("registry", page_upserted(revision=2, confirmation_code="old")))
    page = repository().read_page_by_group(GROUP_ID)
    assert page is not None and (page.revision, page.confirmation_code) == (3, "new")
    run_projection(newest)
    assert repository().read_page("page-1") == page, "redelivery of the same revision is harmless"


def test_archive_marks_the_group_and_an_older_upsert_cannot_revive_it(run_projection: Run) -> None:
    archived = PageArchived(page_id="page-1", institution_id="inst-1", region_code="54", platform="vk", revision=2)
    run_projection(make_event("registry", page_upserted(revision=1)))
    run_projection(make_event("registry", archived))
    run_projection(make_event("registry", page_upserted(revision=1)))
    page = repository().read_page_by_group(GROUP_ID)
    assert page is not None and not page.active and page.revision == 2


def test_archive_before_any_upsert_still_blocks_the_group(run_projection: Run) -> None:
    archived = PageArchived(
        page_id="page-1", institution_id="inst-1", region_code="54", platform="vk", group_id=GROUP_ID, revision=5
    )
    run_projection(make_event("registry", archived))
    run_projection(make_event("registry", page_upserted(revision=4)))
    page = repository().read_page_by_group(GROUP_ID)
    assert page is not None and page.status == "archived"


def test_a_new_group_id_releases_the_old_one_unless_another_page_took_it(run_projection: Run) -> None:
    run_projection(make_event("registry", page_upserted(revision=1)))
    run_projection(make_event("registry", page_upserted(revision=2, group_id=555)))
    assert repository().read_page_by_group(GROUP_ID) is None
    assert repository().read_page_by_group(555) is not None

    run_projection(make_event("registry", page_upserted(page_id="page-2", revision=1, group_id=777)))
    run_projection(make_event("registry", page_upserted(revision=3, group_id=777)))  # page-1 claims 777 too
    run_projection(make_event("registry", page_upserted(page_id="page-2", revision=2, group_id=888)))
    taken = repository().read_page_by_group(777)
    assert taken is not None and taken.page_id == "page-1", "page-2 moving away does not drop page-1's claim"
    moved = repository().read_page_by_group(888)
    assert moved is not None and moved.page_id == "page-2", "page-2 still claims its new group"


def test_other_platforms_and_other_event_types_are_skipped(run_projection: Run) -> None:
    institution = InstitutionUpserted(
        institution_id="inst-1",
        region_code="54",
        name="Минздрав",
        kind="ministry",
        level="regional",
        spheres=(),
        revision=1,
    )
    result = run_projection(
        make_event("registry", page_upserted(platform="ok", group_id=GROUP_ID)), make_event("registry", institution)
    )
    assert result == {"batchItemFailures": []}
    assert repository().read_page_by_group(GROUP_ID) is None


def test_an_unparseable_event_fails_only_its_record(aws: Any) -> None:
    from services.appeals.projection import handler
    from tooling.local.lambda_runtime import LambdaContext, sqs_event

    messages = [
        {"MessageId": "bad", "ReceiptHandle": "r", "Body": "{}"},
        {"MessageId": "good", "ReceiptHandle": "r", "Body": make_event("registry", page_upserted()).model_dump_json()},
    ]
    result = handler(sqs_event(messages, queue_arn="q", region=aws.region), LambdaContext(function_name="P"))
    assert result == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert repository().read_page_by_group(GROUP_ID) is not None
