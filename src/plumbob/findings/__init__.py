"""The finding policy: one place that turns what an analysis found into report Findings."""

from plumbob.findings.policy import (
    IGNORE_ANNOTATION,
    AnalysisResult,
    Assessed,
    Exemption,
    FindingPolicy,
    analysis_names,
    fingerprint,
    ignored_ids,
)
from plumbob.findings.subjects import subject_of

__all__ = [
    "IGNORE_ANNOTATION",
    "AnalysisResult",
    "Assessed",
    "Exemption",
    "FindingPolicy",
    "analysis_names",
    "fingerprint",
    "ignored_ids",
    "subject_of",
]
