"""TCP ports for the local stack's processes: free when chosen, owned once bound.

A port found free (`free_port`) is only a guess: between closing the probe socket and
binding the port again, any process on the machine may take it (another test worker,
another engineer's stack, an outgoing connection's ephemeral port). A server that binds in
this process should bind port 0 and read its port back. A child process that cannot
(DynamoDB Local's JVM) is started on a guess and checked: `listens_on` says whether that
very process holds the listening socket, so a server of someone else's answering on the
port is never taken for ours.
"""

from __future__ import annotations

import socket

import psutil


def free_port() -> int:
    """A port nobody listens on now (a guess: see the module's note)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listens_on(pid: int, port: int) -> bool:
    """True when process `pid` holds a listening TCP socket on `port` (any address)."""
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return False
    return any(
        c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in connections
    )
