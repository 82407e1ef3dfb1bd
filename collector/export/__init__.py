"""The audit evidence package: ``export_package`` writes it, ``verify_package`` checks it."""

from collector.export.build import ExportResult, export_package
from collector.export.verify import PackageProblem, PackageReport, verify_package

__all__ = ["ExportResult", "PackageProblem", "PackageReport", "export_package", "verify_package"]
