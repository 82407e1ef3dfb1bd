"""ACM collector: issued certificates of every key type, with their expiry."""

from __future__ import annotations

from datetime import UTC, datetime

from checks.aws.acm import AcmCertificates, Certificate
from collector.aws.scope import AwsScope
from collector.collect import collects

#: ListCertificates returns only RSA_2048 certificates unless asked for the others.
KEY_TYPES = [
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
]


@collects(AcmCertificates, permissions=["acm:ListCertificates"], scope="region")
def acm_certificates(scope: AwsScope) -> AcmCertificates:
    """ISSUED certificates (paginated); the summary carries NotAfter, so no describe call."""
    collected_at = datetime.now(UTC)
    pages = (
        scope.client("acm")
        .get_paginator("list_certificates")
        .paginate(CertificateStatuses=["ISSUED"], Includes={"keyTypes": KEY_TYPES})
    )
    certificates = []
    for page in pages:
        for summary in page.get("CertificateSummaryList", []):
            if "NotAfter" not in summary:
                raise ValueError(f"ACM summary of {summary['CertificateArn']} lacks NotAfter")
            certificates.append(
                Certificate(
                    arn=summary["CertificateArn"],
                    domain=summary.get("DomainName", ""),
                    not_after=summary["NotAfter"].astimezone(UTC),
                )
            )
    return AcmCertificates(
        region=scope.region, collected_at=collected_at, certificates=tuple(certificates)
    )
