"""KMS collector: every key in a region, and the rotation status of keys in scope."""

from __future__ import annotations

from checks.aws.kms import KmsKey, KmsKeys
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(
    KmsKeys,
    permissions=["kms:ListKeys", "kms:DescribeKey", "kms:GetKeyRotationStatus"],
    scope="region",
)
def kms_keys(scope: AwsScope) -> KmsKeys:
    """ListKeys (paginated), DescribeKey each, GetKeyRotationStatus where rotation applies
    (KMS refuses it for asymmetric, HMAC and imported keys)."""
    kms = scope.client("kms")
    keys = []
    for page in kms.get_paginator("list_keys").paginate():
        for listed in page.get("Keys", []):
            meta = kms.describe_key(KeyId=listed["KeyId"])["KeyMetadata"]
            key = KmsKey(
                key_id=meta["KeyId"],
                arn=meta["Arn"],
                manager=meta["KeyManager"],
                state=meta["KeyState"],
                spec=meta.get("KeySpec") or meta.get("CustomerMasterKeySpec", "SYMMETRIC_DEFAULT"),
                origin=meta.get("Origin", "AWS_KMS"),
                rotation_enabled=None,
            )
            if key.rotatable:
                status = kms.get_key_rotation_status(KeyId=key.key_id)
                key = key.model_copy(
                    update={"rotation_enabled": bool(status["KeyRotationEnabled"])}
                )
            keys.append(key)
    return KmsKeys(region=scope.region, keys=tuple(keys))
