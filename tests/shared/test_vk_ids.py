"""VK ids enter only as bounded plain decimal integers."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from shared.vk_ids import MAX_VK_ID, OwnerId, VkId, parse_vk_id


@pytest.mark.parametrize(("raw", "expected"), [(1, 1), ("209990001", 209990001), (MAX_VK_ID, MAX_VK_ID)])
def test_plain_ids_are_read(raw: object, expected: int) -> None:
    assert parse_vk_id(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [0, -5, MAX_VK_ID + 1, 10**12, "0", "²", "12³", "١٢٣", "+12", " 12", "12.0", "1" * 5000, "", None, True, 1.0, [1]],
)
def test_anything_else_is_refused(raw: object) -> None:
    assert parse_vk_id(raw) is None


class Probe(BaseModel):
    group_id: VkId
    owner_id: OwnerId


def test_model_fields_are_bounded() -> None:
    assert Probe(group_id=5, owner_id=-5).owner_id == -5
    for group_id, owner_id in ((0, 1), (10**12, 1), (1, -(10**12)), (1, 10**39)):
        with pytest.raises(ValidationError):
            Probe(group_id=group_id, owner_id=owner_id)
