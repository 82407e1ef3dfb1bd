"""How much of the public internet a firewall source admits, judged by address space.

The internet is not only ``0.0.0.0/0`` and ``::/0``: ``0.0.0.0/1`` plus ``128.0.0.0/1``, or a
public ``/4``, admit it too. Sources are measured as sets of addresses (intervals of integers,
parsed with :mod:`ipaddress`); only public addresses count (private, loopback, link-local,
documentation, multicast and reserved ranges are left out). A rule set is open to the internet
when the public addresses it admits outnumber one network of the configured prefix length
(default ``/16`` for IPv4, ``/32`` for IPv6): many narrow ranges add up.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from pydantic import Field

from checks.api import SnapshotPart

__all__ = ["AddressSpace", "InternetPrefix", "address_space"]

Interval = tuple[int, int]  # first and last address, inclusive

#: Special-purpose IPv4 ranges (RFC 6890 and successors) that are not the public internet.
_NOT_PUBLIC_V4 = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/3",
)
#: Public IPv6 is global unicast (2000::/3) less the documentation range.
_PUBLIC_V6 = "2000::/3"
_NOT_PUBLIC_V6 = ("2001:db8::/32",)


class InternetPrefix(SnapshotPart):
    """Admitting more public addresses than one network of this prefix length counts as open
    to the internet (``ipv4: 16``: more than 65,536 public addresses)."""

    ipv4: int = Field(16, ge=0, le=32)
    ipv6: int = Field(32, ge=0, le=128)


def _interval(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Interval:
    return int(network.network_address), int(network.broadcast_address)


def _normalise(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    merged: list[Interval] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return tuple(merged)


def _subtract(intervals: tuple[Interval, ...], other: tuple[Interval, ...]) -> tuple[Interval, ...]:
    result = []
    for low, high in intervals:
        pieces = [(low, high)]
        for o_low, o_high in other:
            pieces = [
                part
                for p_low, p_high in pieces
                for part in ((p_low, min(p_high, o_low - 1)), (max(p_low, o_high + 1), p_high))
                if part[0] <= part[1]
            ]
        result += pieces
    return _normalise(result)


def _intersect(
    intervals: tuple[Interval, ...], other: tuple[Interval, ...]
) -> tuple[Interval, ...]:
    return _normalise(
        (max(low, o_low), min(high, o_high))
        for low, high in intervals
        for o_low, o_high in other
        if max(low, o_low) <= min(high, o_high)
    )


class AddressSpace:
    """A set of IPv4 and IPv6 addresses with union, difference and a public-address count."""

    def __init__(self, v4: Iterable[Interval] = (), v6: Iterable[Interval] = ()) -> None:
        self.v4 = _normalise(v4)
        self.v6 = _normalise(v6)

    def __or__(self, other: AddressSpace) -> AddressSpace:
        return AddressSpace(self.v4 + other.v4, self.v6 + other.v6)

    def __sub__(self, other: AddressSpace) -> AddressSpace:
        return AddressSpace(_subtract(self.v4, other.v4), _subtract(self.v6, other.v6))

    def __and__(self, other: AddressSpace) -> AddressSpace:
        return AddressSpace(_intersect(self.v4, other.v4), _intersect(self.v6, other.v6))

    def __bool__(self) -> bool:
        return bool(self.v4 or self.v6)

    def public(self) -> AddressSpace:
        """Only the addresses of the public internet."""
        return self & PUBLIC

    def open_to_internet(self, prefix: InternetPrefix) -> bool:
        """Whether its public addresses outnumber one network of ``prefix`` (per family)."""
        public = self.public()
        v4 = sum(high - low + 1 for low, high in public.v4)
        v6 = sum(high - low + 1 for low, high in public.v6)
        return v4 > 2 ** (32 - prefix.ipv4) or v6 > 2 ** (128 - prefix.ipv6)

    def describe(self) -> str:
        """The public part as CIDR blocks, e.g. ``0.0.0.0/1, 128.0.0.0/2`` (at most five)."""
        blocks: list[str] = []
        for cls, intervals in ((ipaddress.IPv4Address, self.v4), (ipaddress.IPv6Address, self.v6)):
            for low, high in intervals:
                blocks += (str(n) for n in ipaddress.summarize_address_range(cls(low), cls(high)))
        return ", ".join(blocks[:5]) + (f" (+{len(blocks) - 5} more)" if len(blocks) > 5 else "")


def address_space(sources: Iterable[str]) -> AddressSpace:
    """The addresses named by ``sources``: CIDRs or single addresses, v4 or v6. Anything else
    (a security group id, a prefix-list id, a service tag) adds nothing."""
    v4: list[Interval] = []
    v6: list[Interval] = []
    for source in sources:
        try:
            network = ipaddress.ip_network(source.strip(), strict=False)
        except ValueError:
            continue
        (v4 if network.version == 4 else v6).append(_interval(network))
    return AddressSpace(v4, v6)


PUBLIC = AddressSpace(
    [(0, 2**32 - 1)], [_interval(ipaddress.IPv6Network(_PUBLIC_V6))]
) - address_space([*_NOT_PUBLIC_V4, *_NOT_PUBLIC_V6])
