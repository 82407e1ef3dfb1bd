"""Intune: recorded managed-device answers -> snapshot -> the four device checks."""

from __future__ import annotations

import pytest
import respx

from checks.intune import devices
from checks.intune.models import IntuneDevices
from checks.testing import findings, verdicts
from collector.azure.errors import AzureApiError
from collector.settings import AzureSettings, IntunePolicy
from tests.azure.fakes import collect, graph, serve

LAPTOP1, LAPTOP2, IPHONE, MAC, BUILD = (
    f"{name} (d0000000-0000-4000-8000-00000000000{n})"
    for n, name in enumerate(("LAPTOP-01", "LAPTOP-02", "IPHONE-01", "MAC-01", "BUILD-01"), 1)
)
DEVICES = graph("/deviceManagement/managedDevices")


def test_device_checks(api: respx.MockRouter) -> None:
    serve(api, DEVICES, "graph/managed_devices.json")
    snapshot = collect(IntuneDevices, "intune")

    assert verdicts(devices.compliant, snapshot) == {
        (LAPTOP1, True),
        (LAPTOP2, False),
        (IPHONE, True),
        (MAC, False),  # in grace period
        (BUILD, True),
    }
    assert verdicts(devices.encrypted, snapshot) == {
        (LAPTOP1, True),
        (LAPTOP2, False),
        (IPHONE, True),
        (MAC, True),
        (BUILD, False),
    }
    assert verdicts(devices.recently_synced, snapshot) == {
        (LAPTOP1, True),
        (LAPTOP2, False),  # 30 days ago
        (IPHONE, True),
        (MAC, False),  # never (0001-01-01)
        (BUILD, True),
    }
    assert verdicts(devices.os_version_minimum, snapshot) == {
        (LAPTOP1, True),  # 10.0.22631 >= 10.0.19045
        (LAPTOP2, False),  # 10.0.19044
        (IPHONE, True),
        (MAC, False),  # 13.6.4 < 14.0
    }  # Linux has no configured minimum: not judged
    assert findings(devices.recently_synced, snapshot)[3].message == (
        "last sync never, over 7 days ago"
    )


def test_minimums_are_configurable(api: respx.MockRouter) -> None:
    serve(api, DEVICES, "graph/managed_devices.json")
    policy = IntunePolicy(min_os_versions={"linux": "22.04", "macos": "13.0"})
    snapshot = collect(IntuneDevices, "intune", settings=AzureSettings(intune=policy))
    assert verdicts(devices.os_version_minimum, snapshot) == {
        (MAC, True),
        (BUILD, False),  # "Ubuntu 22.04" is not a version number: not a pass
    }


def test_intune_403_names_the_scope_it_asks_for(api: respx.MockRouter) -> None:
    serve(api, DEVICES, "graph/error_intune_forbidden.json", status=403)
    with pytest.raises(AzureApiError) as denied:
        collect(IntuneDevices, "intune")
    assert denied.value.permission == "DeviceManagementManagedDevices.Read.All"
