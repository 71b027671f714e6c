"""Generate docs/report.md, the report schema, from the Report structs and their field
docstrings (`python -m plumbob.report.docs > docs/report.md`)."""

from __future__ import annotations

import ast
import enum
import inspect
import sys
import typing

import msgspec

from plumbob.report import model


def _field_docs(cls: type) -> dict[str, str]:
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, nxt in zip(body, [*body[1:], None], strict=True):
        target: ast.expr
        if isinstance(node, ast.AnnAssign):
            target = node.target
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]  # an enum member
        else:
            continue
        if (
            isinstance(target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[target.id] = " ".join(nxt.value.value.split())
    return docs


def _codes() -> list[str]:
    """The diagnostic codes, each with its meaning."""
    docs = _field_docs(model.DiagnosticCode)
    lines = [
        "### Diagnostic codes",
        "",
        inspect.getdoc(model.DiagnosticCode) or "",
        "",
        "| code | meaning |",
        "|---|---|",
    ]
    lines += [f"| `{c.value}` | {docs.get(c.name, '')} |" for c in model.DiagnosticCode]
    return [*lines, ""]


def _type_name(tp: object) -> str:
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp.__name__
    text = str(tp).replace("plumbob.report.model.", "").replace("typing.", "")
    return text.replace("<class '", "").replace("'>", "")


def render() -> str:
    structs: list[type[msgspec.Struct]] = [
        model.Report,
        model.ConfigUsed,
        model.NewSince,
        model.Inventory,
        model.PoolFact,
        model.Finding,
        model.Subject,
        model.CheckRun,
        model.Scores,
        model.CategoryScore,
        model.Diagnostic,
    ]
    lines = [
        "# Report schema",
        "",
        f"`plumbob scan --format json` writes one `Report` (`apiVersion: "
        f"{model.REPORT_API_VERSION}`). Field names are camelCase in JSON. Generated from "
        "src/plumbob/report/model.py by `python -m plumbob.report.docs`; a test keeps it current.",
        "",
        "Severities, highest first: " + ", ".join(f"`{s.value}`" for s in model.Severity) + ".",
        "",
    ]
    for cls in structs:
        doc = inspect.getdoc(cls) or ""
        lines += [f"## {cls.__name__}", "", doc, "", "| field | type | meaning |", "|---|---|---|"]
        hints = typing.get_type_hints(cls)
        docs = _field_docs(cls)
        info = msgspec.structs.fields(cls)
        for f in info:
            lines.append(
                f"| `{f.encode_name}` | `{_type_name(hints[f.name])}` | {docs.get(f.name, '')} |"
            )
        lines.append("")
        if cls is model.Diagnostic:
            lines += _codes()
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render())
