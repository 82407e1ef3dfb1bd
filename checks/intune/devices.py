"""Intune device checks: compliant, encrypted, recently synced, supported OS version."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

from checks.api import Finding, check
from checks.intune.models import IntuneDevices, IntuneSettings, ManagedDevice

_VERSION = re.compile(r"^\d+(\.\d+)*")


def _resource(device: ManagedDevice) -> str:
    return f"{device.name} ({device.id})"


@check(
    id="intune.devices.compliant",
    title="Managed devices are compliant with Intune compliance policies",
    severity="high",
    interval="12h",
    version=2,
    remediation="Bring the device into compliance or block it with Conditional Access "
    "(require a compliant device); 'inGracePeriod' and 'unknown' count as not compliant. Set "
    "'Mark devices with no compliance policy assigned as' to Not compliant (secureByDefault).",
)
def compliant(devices: IntuneDevices, settings: IntuneSettings) -> Iterator[Finding]:
    """One finding per device, and one for the tenant setting: while devices no compliance
    policy targets are marked compliant (``secureByDefault`` off), "compliant" proves nothing
    for them, so that setting fails on its own finding."""
    yield Finding(
        resource=f"{settings.tenant} (devices with no compliance policy)",
        passed=settings.secure_by_default,
        message="marked not compliant (secureByDefault on)"
        if settings.secure_by_default
        else "marked compliant (secureByDefault off): a device no policy targets passes",
    )
    for device in devices.devices:
        ok = device.compliance_state == "compliant"
        yield Finding(
            resource=_resource(device), passed=ok, message=f"state {device.compliance_state}"
        )


@check(
    id="intune.devices.encrypted",
    title="Managed devices have encrypted storage",
    severity="high",
    interval="12h",
    remediation="Enforce BitLocker, FileVault or device encryption with an Intune "
    "configuration or compliance policy.",
)
def encrypted(devices: IntuneDevices) -> Iterator[Finding]:
    for device in devices.devices:
        yield Finding(
            resource=_resource(device),
            passed=device.encrypted,
            message="storage encrypted" if device.encrypted else "storage not encrypted",
        )


@check(
    id="intune.devices.recently_synced",
    title="Managed devices have synced with Intune recently",
    severity="medium",
    interval="12h",
    remediation="Investigate devices that stopped checking in (lost, retired, agent broken); "
    "retire the stale ones. The window is azure.intune.sync_within_days (default 7).",
)
def recently_synced(devices: IntuneDevices) -> Iterator[Finding]:
    since = devices.collected_at - timedelta(days=devices.sync_within_days)
    for device in devices.devices:
        ok = device.last_sync is not None and device.last_sync >= since
        seen = device.last_sync.date().isoformat() if device.last_sync else "never"
        yield Finding(
            resource=_resource(device),
            passed=ok,
            message=f"last sync {seen}"
            + ("" if ok else f", over {devices.sync_within_days} days ago"),
        )


def version_tuple(text: str) -> tuple[int, ...] | None:
    """``"10.0.22631.2861"`` -> (10, 0, 22631, 2861); ``None`` when it is not a version."""
    match = _VERSION.match(text.strip())
    return tuple(int(p) for p in match.group(0).split(".")) if match else None


@check(
    id="intune.devices.os_version_minimum",
    title="Managed devices run at least the configured minimum OS version",
    severity="medium",
    interval="12h",
    remediation="Update the device, or adjust azure.intune.min_os_versions when the supported "
    "baseline changes. Devices of an OS without a configured minimum are not judged.",
)
def os_version_minimum(devices: IntuneDevices) -> Iterator[Finding]:
    minimums = {os.lower(): v for os, v in devices.min_os_versions.items()}
    for device in devices.devices:
        wanted = minimums.get(device.os.lower())
        if wanted is None:
            continue
        have, need = version_tuple(device.os_version), version_tuple(wanted)
        ok = have is not None and need is not None and have >= need
        yield Finding(
            resource=_resource(device),
            passed=ok,
            message=f"{device.os} {device.os_version or '(unknown)'}, minimum {wanted}",
        )
