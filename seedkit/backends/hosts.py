"""One spelling per host, so a protected address cannot be reached under another spelling."""

from __future__ import annotations

import ipaddress
import socket


def canonical_host(host: str) -> str:
    """Lower-case names; IP addresses in their one standard form.

    libpq passes a host to the resolver, which reads IPv4 the way ``inet_aton`` does: ``127.1``,
    ``0x7f.0.0.1`` and ``2130706433`` are all 127.0.0.1. A Unix socket folder stays a path.
    """
    host = host.strip()
    if host.startswith("/") or host.startswith("@"):
        return host
    host = host.lower().rstrip(".").strip("[]")
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        pass
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return host
