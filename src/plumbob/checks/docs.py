"""docs/checks.md from the check metadata: `python -m plumbob.checks.docs > docs/checks.md`."""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable

from plumbob.checks.registry import (
    CATEGORIES,
    COMPONENTS,
    EVERY_KIND,
    WORKLOADS,
    Check,
    Registry,
)
from plumbob.model.objects import NODE_PARTS

CATEGORY_TITLES = {
    "gpu": "GPU scheduling and isolation",
    "compat": "Compatibility",
    "scaling": "Scaling",
    "images": "Images and supply chain",
    "resilience": "Resilience and data",
    "policy": "Policy and security",
    "observability": "Observability",
    "cost": "Cost",
    "drift": "Drift",
}

_HEADER = """\
# Check catalog

<!-- Generated from the check metadata by `python -m plumbob.checks.docs > docs/checks.md`;
     tests/test_docs_current.py fails when this file is out of date. Do not edit by hand. -->

Every check plumbob runs, by category: what it looks at, why it matters for AI workloads, how to
fix it. Severities are defaults; change them per check id in `plumbob.yaml` (`severity:`), turn
checks off with `disable:`, and exempt objects with the annotation
`plumbob.dev/ignore: "<check-id>[,<check-id>...]"` on the object or its namespace. How findings
turn into scores: [scoring.md](scoring.md).

Each check names first the failure it comes from: a report of a cluster where it happened (an
issue thread, the pull request that fixed it) or, where no public report was found, the vendor
document that states the failure. [incidents.md](incidents.md) collects the reports.

A check whose input the source could not see (API group absent, permission denied, a kind the
files do not contain) is reported as *not visible* instead of passing. What a check *reads* is
what its verdict stands on; what it *consults* is further evidence, whose absence does not make
the check not visible.
"""


def _reads(check: Check, kinds: tuple[str, ...] | None = None) -> str:
    names = []
    for r in check.reads if kinds is None else kinds:
        if r == EVERY_KIND:
            names.append("objects of every kind")
        elif r == WORKLOADS:
            names.append("pod templates of all workload kinds")
        elif r == COMPONENTS:
            names.append("the cluster's add-ons")
        elif r == "Node" and kinds is None and set(check.node_parts) != set(NODE_PARTS):
            names.append(f"`Node` ({', '.join(check.node_parts)})")
        else:
            names.append(f"`{r}`")
    return ", ".join(names)


def _anchor(check_id: str) -> str:
    return check_id.lower()


def render(checks: Iterable[Check]) -> str:
    """The whole page as Markdown; deterministic for a given catalog."""
    by_category: dict[str, list[Check]] = defaultdict(list)
    for c in checks:
        by_category[c.category].append(c)
    order = [cat for cat in CATEGORIES if by_category.get(cat)]
    order += sorted(set(by_category) - set(order))
    out = [_HEADER]
    total = sum(len(v) for v in by_category.values())
    everything = [c for cat in order for c in by_category[cat]]
    incidents = sum(1 for c in everything if c.origin is not None and c.origin.kind == "incident")
    documents = sum(1 for c in everything if c.origin is not None and c.origin.kind == "document")
    out.append(
        f"{total} checks in {len(order)} categories: {incidents} from a failure report, "
        f"{documents} from the vendor documentation.\n"
    )
    out.append("| category | checks | ids |")
    out.append("|---|---:|---|")
    for cat in order:
        ids = ", ".join(f"[{c.id}](#{_anchor(c.id)})" for c in by_category[cat])
        out.append(f"| {CATEGORY_TITLES.get(cat, cat)} | {len(by_category[cat])} | {ids} |")
    out.append("")
    for cat in order:
        out.append(f"## {CATEGORY_TITLES.get(cat, cat)} (`{cat}`)\n")
        for c in by_category[cat]:
            out.append(f"### {c.id}\n")
            meta = f"**{c.title}** · severity `{c.severity.value}` · reads {_reads(c)}"
            if c.consults:
                meta += f" · consults {_reads(c, c.consults)}"
            if c.aliases:
                meta += f" · formerly {', '.join(f'`{a}`' for a in c.aliases)}"
            out.append(meta + "\n")
            if c.origin is not None:
                out.append(c.origin.describe() + "\n")
            if c.options:
                out.append(f"Options (`plumbob.yaml` `options: {{{c.id}: ...}}`):\n")
                out.extend(f"- {o.describe()}" for o in c.options.values())
                out.append("")
            out.append("**Why it matters**\n")
            out.append(c.why.strip() + "\n")
            out.append("**How to fix**\n")
            out.append(c.fix.strip() + "\n")
            if c.references:
                out.append("**References**\n")
                out.extend(f"- <{r}>" for r in c.references)
                out.append("")
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    sys.stdout.write(render(Registry.discover()))


if __name__ == "__main__":
    main()
