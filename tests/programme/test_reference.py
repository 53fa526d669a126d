"""The programme-file reference is generated from the schema, is what docs/ holds, and has no holes."""

from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from dokja.cli.programme import reference_text
from dokja.programme.reference import UndocumentedField, reference_markdown
from dokja.programme.schema import Programme

DOC = Path(__file__).resolve().parents[2] / "docs" / "programme-file.md"


def test_docs_hold_the_generated_reference():
    assert DOC.read_text(encoding="utf-8") == reference_text(), \
        "docs/programme-file.md is stale: run `dokja programme reference > docs/programme-file.md`"


def test_every_field_of_every_table_is_documented():
    text = reference_markdown()
    for cls in (Programme, *[f.annotation for f in Programme.model_fields.values() if isinstance(f.annotation, type)]):
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            for name in cls.model_fields:
                assert f"| `{name}` |" in text


def test_an_undocumented_field_fails():
    class Partly(BaseModel):
        said: int = Field(1, description="documented")
        unsaid: int = 2

    with pytest.raises(UndocumentedField, match="Partly.unsaid"):
        reference_markdown(Partly)


def test_defaults_are_the_first_stages():
    text = reference_markdown()
    assert "| `expert` | number | `35` |" in text and "| `window_months` | integer | `6` |" in text
    assert "| `grievance_days` | integer | `10` |" in text
