"""Typed Fleet snapshots: hosts, policies with the hosts passing and failing each, and the
configured policy behind each endpoint control."""

from __future__ import annotations

from typing import ClassVar

from checks.api import Snapshot, SnapshotPart

__all__ = [
    "FleetAntimalware",
    "FleetControlPolicy",
    "FleetDiskEncryption",
    "FleetFirewall",
    "FleetHost",
    "FleetHosts",
    "FleetLocalAdmins",
    "FleetOsUpdates",
    "FleetPolicies",
    "FleetPolicy",
    "FleetScreenLock",
    "FleetTimeSync",
]

#: Host platforms that run no osquery, so no policy applies to them (MDM-only devices).
NO_POLICIES = frozenset({"ios", "ipados", "android"})
#: Platforms Fleet names as such; every other host platform (ubuntu, rhel...) is "linux".
FAMILIES = frozenset({"darwin", "windows", "chrome"}) | NO_POLICIES


class _FleetSnapshot(Snapshot):
    provider: ClassVar[str] = "fleet"


class FleetHost(SnapshotPart):
    id: int
    hostname: str
    platform: str  # darwin, windows, ubuntu, rhel, chrome, ios...
    os_version: str

    @property
    def family(self) -> str:
        """The platform as policies name it: darwin, windows, chrome, linux, or ios..."""
        return self.platform if self.platform in FAMILIES else "linux"


class FleetHosts(_FleetSnapshot):
    resource_noun: ClassVar[str] = "hosts"
    server: str
    hosts: tuple[FleetHost, ...]


class FleetDiskEncryption(_FleetSnapshot):
    """Each host's ``disk_encryption_enabled`` as ``GET /hosts/{id}`` reports it (the host
    list does not); None where Fleet has no answer (some Linux hosts)."""

    resource_noun: ClassVar[str] = "hosts"
    server: str
    hosts: tuple[FleetHost, ...]
    encrypted: dict[int, bool | None]


class FleetPolicy(SnapshotPart):
    id: int
    name: str
    platforms: tuple[str, ...]  # empty: every platform
    passing: tuple[int, ...]  # host ids
    failing: tuple[int, ...]

    def applies_to(self, host: FleetHost) -> bool:
        if host.family in NO_POLICIES:
            return False
        return not self.platforms or host.family in self.platforms


class FleetPolicies(_FleetSnapshot):
    resource_noun: ClassVar[str] = "policies"
    policies: tuple[FleetPolicy, ...]


class FleetControlPolicy(_FleetSnapshot):
    """The Fleet policy configured (``fleet.policies.<control>``) to check one control."""

    resource_noun: ClassVar[str] = "hosts"
    control: str
    policy: FleetPolicy


class FleetScreenLock(FleetControlPolicy):
    pass


class FleetFirewall(FleetControlPolicy):
    pass


class FleetAntimalware(FleetControlPolicy):
    pass


class FleetOsUpdates(FleetControlPolicy):
    pass


class FleetTimeSync(FleetControlPolicy):
    pass


class FleetLocalAdmins(FleetControlPolicy):
    pass
