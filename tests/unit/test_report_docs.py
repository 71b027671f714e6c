"""docs/report.md is generated from the report model and must stay current."""

from pathlib import Path

from plumbob.report.docs import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "report.md"


def test_report_schema_doc_is_current() -> None:
    assert DOC.read_text() == render(), "run: python -m plumbob.report.docs > docs/report.md"
