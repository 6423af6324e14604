"""docs/service.md documents every setting (the settings model is the single source)."""

from __future__ import annotations

from pathlib import Path

from flintcloud.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "service.md"


def test_every_setting_is_documented():
    text = DOCS.read_text()
    missing = [name for name in Settings.model_fields if f"`FLINTCLOUD_{name.upper()}`" not in text]
    assert missing == []
