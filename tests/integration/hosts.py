"""Other hosts on this machine, for the scale-out tests: network namespaces with their own addresses (iproute2's
`ip netns` and a veth pair each), reaching this machine's PostgreSQL and broker only over those addresses, and an
S3-compatible object store (moto's server) that every host reaches over the network.

Each host's side of its veth pair is the only interface it has besides its own loopback, so 127.0.0.1 inside a
host is that host's alone: nothing listens there. PostgreSQL, Redis and RabbitMQ listen on this machine's
loopback only, so socat relays each host's address and port to them; the object store (tests/object_store.py)
listens on every address."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path


def missing() -> str | None:
    """Why hosts cannot be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces and read-only bind mounts need root"
    for tool in ("ip", "socat", "unshare", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (iproute2, socat, util-linux)"
    probe = f"zbprobe{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"ip netns add failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return None


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=30)


def answers(address: str, port: int, namespace: str | None = None) -> bool:
    """Whether a TCP connection to address:port succeeds, from inside the namespace if given."""
    if namespace is None:
        try:
            with socket.create_connection((address, port), timeout=2):
                return True
        except OSError:
            return False
    probe = f"import socket; socket.create_connection(({address!r}, {port}), timeout=2).close()"
    tried = subprocess.run(["ip", "netns", "exec", namespace, sys.executable, "-c", probe], capture_output=True)
    return tried.returncode == 0


@dataclass
class Host:
    """One worker host: a network namespace, the address it sees this machine at (`gateway`), its own, and its
    own folder (its read-only copy of the hidden test sets, and its var folder)."""

    name: str
    namespace: str
    gateway: str
    address: str
    folder: Path
    relays: list[subprocess.Popen] = field(default_factory=list)
    mounted: list[Path] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def prefix(self) -> tuple[str, ...]:
        """Runs a command on this host: in its namespace, under its own host name (so that a worker's name,
        host:pid, tells the hosts apart); each step execs the next, so the command keeps the first's pid."""
        return (
            *("ip", "netns", "exec", self.namespace, "unshare", "--uts", "sh", "-c"),
            f'hostname {self.name} && exec "$@"',
            "sh",
        )


class Network:
    """Hosts made for a test and everything they need removed afterwards (teardown never raises)."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.tag = uuid.uuid4().hex[:6]
        self.subnet = 100 + int(self.tag, 16) % 100  # 10.(100..199).x.0/24: apart from other runs' hosts
        self.hosts: list[Host] = []

    def add_host(self, name: str, data_source: Path) -> Host:
        index = len(self.hosts) + 1
        namespace, outside, inside = f"zb{self.tag}{index}", f"zbo{self.tag}{index}", f"zbi{self.tag}{index}"
        gateway, address = f"10.{self.subnet}.{index}.1", f"10.{self.subnet}.{index}.2"
        host = Host(name, namespace, gateway, address, self.scratch / name)
        self.hosts.append(host)
        _run("ip", "netns", "add", namespace)
        _run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
        _run("ip", "link", "set", inside, "netns", namespace)
        _run("ip", "addr", "add", f"{gateway}/24", "dev", outside)
        _run("ip", "link", "set", outside, "up")
        for command in (
            ("ip", "addr", "add", f"{address}/24", "dev", inside),
            ("ip", "link", "set", inside, "up"),
            ("ip", "link", "set", "lo", "up"),
        ):
            _run("ip", "netns", "exec", namespace, *command)
        # its own copy of the hidden test sets, mounted read-only as a worker host would have it
        copy = host.folder / "data-copy"
        shutil.copytree(data_source / "testsets", copy / "testsets")  # the test sets only: nothing of other tests
        host.data_dir.mkdir(parents=True)
        _run("mount", "--bind", str(copy), str(host.data_dir))
        host.mounted.append(host.data_dir)
        _run("mount", "-o", "remount,bind,ro", str(host.data_dir))
        return host

    def relay(self, host: Host, port: int) -> None:
        """host.gateway:port -> this machine's 127.0.0.1:port (PostgreSQL, the broker)."""
        relay = subprocess.Popen(
            ["socat", f"TCP-LISTEN:{port},bind={host.gateway},fork,reuseaddr", f"TCP:127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        host.relays.append(relay)
        deadline = time.monotonic() + 10
        while not answers(host.gateway, port):
            if relay.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"socat could not relay {host.gateway}:{port}")
            time.sleep(0.05)

    def remove(self) -> None:
        for host in self.hosts:
            for relay in host.relays:
                relay.kill()
                relay.wait()
            for path in host.mounted:
                subprocess.run(["umount", str(path)], capture_output=True)
            # deleting the namespace deletes the veth pair with it
            subprocess.run(["ip", "netns", "delete", host.namespace], capture_output=True)
