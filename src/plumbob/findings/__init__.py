"""The finding policy: one place that turns what an analysis found into report Findings."""

from plumbob.findings.policy import (
    IGNORE_ANNOTATION,
    AnalysisResult,
    Assessed,
    Exemption,
    FindingPolicy,
    analysis_names,
    finding_key,
    fingerprint,
    ignored_ids,
)
from plumbob.findings.since import canonical_ids, mark_new
from plumbob.findings.subjects import subject_of

__all__ = [
    "IGNORE_ANNOTATION",
    "AnalysisResult",
    "Assessed",
    "Exemption",
    "FindingPolicy",
    "analysis_names",
    "canonical_ids",
    "finding_key",
    "fingerprint",
    "ignored_ids",
    "mark_new",
    "subject_of",
]
