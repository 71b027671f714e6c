"""CNCF Kubernetes AI Conformance pre-check: each requirement of the checklist, from what a scan
saw (its snapshots and findings). Its own package beside the checks: it holds no check."""

from plumbob.conformance.assess import (
    EVALUATORS,
    PRODUCT_STATUS,
    Assessment,
    Requirement,
    Status,
    assess,
    default_version,
    detect_components,
    product_yaml,
    requirements,
    table_sources,
    versions,
)

__all__ = [
    "EVALUATORS",
    "PRODUCT_STATUS",
    "Assessment",
    "Requirement",
    "Status",
    "assess",
    "default_version",
    "detect_components",
    "product_yaml",
    "requirements",
    "table_sources",
    "versions",
]
