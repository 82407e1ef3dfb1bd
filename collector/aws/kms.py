"""KMS collector: every key in a region, and the rotation status of keys in scope."""

from __future__ import annotations

from typing import Any

from checks.aws.kms import KmsKey, KmsKeys
from collector.aws.paging import each, pages
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(
    KmsKeys,
    permissions=["kms:ListKeys", "kms:DescribeKey", "kms:GetKeyRotationStatus"],
    scope="region",
    fan_out=True,
)
def kms_keys(scope: AwsScope) -> KmsKeys:
    """ListKeys (paginated), DescribeKey each, GetKeyRotationStatus where rotation applies
    (KMS refuses it for asymmetric, HMAC and imported keys)."""
    kms = scope.client("kms")
    keys = each(lambda listed: _key(kms, listed["KeyId"]), pages(kms, "list_keys", "Keys"))
    return KmsKeys(region=scope.region, keys=tuple(keys))


def _key(kms: Any, key_id: str) -> KmsKey:
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    key = KmsKey(
        key_id=meta["KeyId"],
        arn=meta["Arn"],
        manager=meta["KeyManager"],
        state=meta["KeyState"],
        spec=meta.get("KeySpec") or meta.get("CustomerMasterKeySpec", "SYMMETRIC_DEFAULT"),
        origin=meta.get("Origin", "AWS_KMS"),
        rotation_enabled=None,
    )
    if not key.rotatable:
        return key
    status = kms.get_key_rotation_status(KeyId=key.key_id)
    return key.model_copy(update={"rotation_enabled": bool(status["KeyRotationEnabled"])})
