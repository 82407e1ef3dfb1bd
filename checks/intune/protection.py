"""Windows anti-malware health as Intune reports it (Microsoft Defender Antivirus)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, Snapshot, SnapshotPart, check


class ProtectionState(SnapshotPart):
    """A Windows device's ``windowsProtectionState``; None: the device has not reported it."""

    device_id: str
    device: str
    malware_protection: bool | None
    real_time_protection: bool | None
    signatures_overdue: bool | None
    health: str | None  # clean, fullScanPending, rebootPending, ..., critical


class WindowsProtection(Snapshot):
    provider: ClassVar[str] = "intune"
    resource_noun: ClassVar[str] = "Windows devices"
    devices: tuple[ProtectionState, ...]


def _problems(state: ProtectionState) -> list[str]:
    found = []
    for value, bad in (
        (state.malware_protection, "anti-malware off"),
        (state.real_time_protection, "real-time protection off"),
    ):
        if value is None:
            found.append(f"{bad.split(' off')[0]} not reported")
        elif not value:
            found.append(bad)
    if state.signatures_overdue is None:
        found.append("signature age not reported")
    elif state.signatures_overdue:
        found.append("signatures overdue")
    if state.health == "critical":
        found.append("device health critical")
    return found


@check(
    id="intune.devices.antimalware_healthy",
    title="Windows devices run anti-malware with real-time protection and current signatures",
    severity="high",
    interval="24h",
    remediation="Turn on Microsoft Defender Antivirus and real-time protection through an "
    "Intune endpoint security policy; fix devices whose signatures are overdue or whose "
    "state is critical.",
)
def antimalware_healthy(snapshot: WindowsProtection) -> Iterator[Finding]:
    """One finding per Windows device: anti-malware and real-time protection on, signatures
    not overdue, health not critical; a value the device never reported is not a pass."""
    for state in snapshot.devices:
        problems = _problems(state)
        yield Finding(
            resource=f"{state.device} ({state.device_id})",
            passed=not problems,
            message="; ".join(problems) or f"protected ({state.health or 'health not reported'})",
        )
