"""Firewall sources judged by address space: however the internet is split, it is open."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from checks.network import InternetPrefix, address_space

PREFIX = InternetPrefix()


def _split(network: ipaddress.IPv4Network | ipaddress.IPv6Network, cuts: list[bool]) -> list[str]:
    """Cut ``network`` into CIDR blocks: each flag says whether the next block is halved."""
    blocks, done = [network], []
    for cut in cuts:
        if not blocks:
            break
        block = blocks.pop(0)
        if cut and block.prefixlen < network.max_prefixlen:
            blocks += list(block.subnets())
        else:
            done.append(block)
    return [str(b) for b in done + blocks]


@given(st.lists(st.booleans(), max_size=60), st.sampled_from(["0.0.0.0/0", "::/0"]))
def test_every_split_of_the_internet_is_open(cuts, whole):
    sources = _split(ipaddress.ip_network(whole), cuts)
    assert address_space(sources).open_to_internet(PREFIX), sources


@given(
    st.lists(
        st.sampled_from(
            [
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "127.0.0.0/8",
                "169.254.0.0/16",
                "100.64.0.0/10",
                "fc00::/7",
                "fe80::/10",
                "::1/128",
            ]
        ),
        min_size=1,
    )
)
def test_private_space_is_never_the_internet(sources):
    assert not address_space(sources).open_to_internet(PREFIX)


@given(st.integers(min_value=0, max_value=32))
def test_the_prefix_is_the_threshold(prefix_length):
    """A public block of exactly the configured size is not open; twice that size is."""
    prefix = InternetPrefix(ipv4=prefix_length)
    size = max(prefix_length, 4)  # 3.0.0.0/size: public for every size from /4 down
    block = ipaddress.ip_network(f"3.0.0.0/{size}", strict=False)
    assert address_space([str(block)]).open_to_internet(prefix) is (size < prefix_length)


def test_not_addresses_add_nothing():
    assert not address_space(["sg-0123", "pl-abc", "VirtualNetwork", ""]).public()
