"""Report model and scoring."""

from plumbob.report.model import (
    REPORT_API_VERSION,
    CategoryScore,
    CheckRun,
    CheckStatus,
    Diagnostic,
    DiagnosticCode,
    Finding,
    Inventory,
    Level,
    PoolFact,
    Report,
    Scores,
    Severity,
    Subject,
)

__all__ = [
    "REPORT_API_VERSION",
    "CategoryScore",
    "CheckRun",
    "CheckStatus",
    "Diagnostic",
    "DiagnosticCode",
    "Finding",
    "Inventory",
    "Level",
    "PoolFact",
    "Report",
    "Scores",
    "Severity",
    "Subject",
]
