"""The patches refuse a moto they were not written against."""

from __future__ import annotations

import moto
import pytest

from tooling.local import patches


def test_another_moto_version_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto, "__version__", "5.3.0")
    with pytest.raises(RuntimeError, match=f"target moto {patches.MOTO_VERSION}, found 5.3.0"):
        patches.install()
