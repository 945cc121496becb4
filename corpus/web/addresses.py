"""Which addresses a fetch may connect to: every one, or only public ones (no server-side request forgery).

A server that fetches URLs for others (the chat, issue 16 item 6) must not be turned against the machine it
runs on or its network: a URL whose host resolves to a loopback, private, link-local, multicast or otherwise
non-public address is refused, whatever way it is written (``localhost``, ``127.1``, ``2130706433``,
``[::ffff:10.0.0.1]``, a name that resolves there). The host is resolved once; every address it resolves to
must be public, and the connection is then made to the addresses checked, never to a second resolution (so a
name that changes its answer between the check and the connection cannot slip through).

The command line does not refuse them (``FetchPolicy.refuse_private=False`` there): ``qa add`` runs on the
user's own machine, with the user's own reach, for URLs the user types.

Example:
    >>> refusal("10.1.2.3"), refusal("::1"), refusal("169.254.169.254"), refusal("93.184.215.14")
    ('a private address', 'a loopback address', 'a link-local address', None)
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

Resolver = Callable[[str, int], list[str]]  # host, port -> the IP addresses to try, in order


def refusal(address: str) -> str | None:
    """Why ``address`` (an IP address) is not public, in words, or None when it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") is not part of it
    if isinstance(ip, ipaddress.IPv6Address) and (ip.ipv4_mapped or ip.sixtofour):
        return refusal(str(ip.ipv4_mapped or ip.sixtofour))
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:  # shared (100.64/10), reserved, documentation ranges ...
        return "a non-public address"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the system's resolver), without repeats, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


PRIVATE_REFUSED = "loopback, private and link-local addresses are not fetched here"


def checked_addresses(host: str, port: int, refuse_private: bool, resolve: Resolver = system_resolver,
                      refused_hint: str = PRIVATE_REFUSED) -> list[str]:
    """The addresses to connect to for ``host``; ``PermissionError`` (with the reason, then ``refused_hint``:
    what the user can do about it) when ``refuse_private`` and any of them is not public; ``socket.gaierror``
    when the name does not resolve."""
    addresses = resolve(host, port)
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    if refuse_private:
        for address in addresses:
            why = refusal(address)
            if why is not None:
                where = f"{host} is {why}" if host.strip("[]") == address else f"{host} resolves to {why} ({address})"
                raise PermissionError(f"{where}; {refused_hint}")
    return addresses
