"""Management review input (ISO/IEC 27001 clauses 9.1 and 9.3): measures over a period, trends
against the previous period and per month or week, rendered as HTML, PDF, CSV, XLSX and JSON."""

from collector.review.build import ControlReview, Review, build_review

__all__ = ["ControlReview", "Review", "build_review"]
