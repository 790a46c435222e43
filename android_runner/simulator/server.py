"""DeviceSimulator: a loopback TCP server that speaks ADB like `adb tcpip` on a Snapdragon 855 phone.

    with DeviceSimulator(port=0) as sim:
        AdbDeviceTcp("127.0.0.1", sim.port).connect(rsa_keys=[signer])
"""
from __future__ import annotations

import pathlib
import random
import socket
import threading
import time

from . import profile_sd855
from .filesystem import DeviceFS, normalize
from .protocol import Connection, KeyStore
from .services import shell_service, shell_v2_service, sync_service
from .tools import run_tool

from .soc_profiles import SOCS

PROFILES = {"sd855": profile_sd855, **SOCS}
TOOLS = ("benchmark_model", "benchmark_bin")
FEATURES = ("shell_v2",)   # advertised in the CNXN banner, as adbd does; adb servers then use shell,v2


def _ephemeral_floor() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def bind_stable_port(sock: socket.socket, host: str) -> int:
    """Bind `sock` to a free port BELOW the kernel's ephemeral range and return it.

    A test unplugs a simulated phone and plugs it back in on the same port. A port from bind(0) lies
    in the ephemeral range, so in between any outgoing connection (the adb server retrying the phone,
    every host-protocol request) may take it as its local port and hold it in TIME_WAIT, and the
    re-plug then fails with EADDRINUSE. Outgoing connections never get a port below the range.
    """
    floor = _ephemeral_floor()
    for port in random.Random().sample(range(10000, max(floor, 10001)), k=min(64, max(floor - 10000, 1))):
        try:
            sock.bind((host, port))
            return port
        except OSError:
            continue
    sock.bind((host, 0))   # everything low is taken: any free port
    return sock.getsockname()[1]


class Device:
    """What services see: files, properties, and how a pushed executable runs."""

    def __init__(self, sim: "DeviceSimulator", profile):
        self.sim, self.profile = sim, profile
        self.props = dict(profile.PROPS)
        self.thermal = profile.Thermal()
        self.fs = DeviceFS(profile.static_files(), dynamic=self.thermal.dynamic_files)

    def execute(self, host_exe, device_path: str, args, io, cpu_mask, cwd) -> int:
        name = device_path.rsplit("/", 1)[-1]
        entry = {"path": device_path, "args": list(args), "cpu_mask": cpu_mask, "start": time.time()}
        if name not in TOOLS:
            io.err(f"/system/bin/sh: {device_path}: the simulated device can only run the stand-ins "
                   f"{', '.join(TOOLS)}\n")
            entry.update(rc=126, end=time.time())
            self.sim._log_exec(entry, count=False)
            return 126
        self.thermal.set_busy(True)
        try:
            # Output streams live (real tools print as they go, and clients' read timeouts depend on it).
            rc = run_tool(name, host_exe, args, io, self.fs, self.props, cwd)
        finally:
            self.thermal.set_busy(False)
        entry.update(rc=rc, end=time.time())
        # An injected drop fires here: after the run, before the exit code and CLSE reach the client,
        # so the client cannot tell the run finished, as with a phone unplugged at the end of a run.
        self.sim._log_exec(entry, count=True)
        return rc


class DeviceSimulator:
    def __init__(self, profile: str = "sd855", host: str = "127.0.0.1", port: int = 0, refuse_auth: bool | str = False):
        """refuse_auth: True = the user taps Deny; 'pending' = nobody answers the prompt."""
        if profile not in PROFILES:
            raise ValueError(f"unknown device profile {profile!r}; known: {', '.join(PROFILES)}")
        self.profile_name, self.host, self._port, self.refuse_auth = profile, host, port, refuse_auth
        self.keys = KeyStore()
        self.exec_log: list[dict] = []
        self.auth_log: list[str] = []
        self._execs = 0
        self.drop_count = 0      # how many times the fault hook has cut the connections
        self._drop_after: int | None = None
        self._conns: set[Connection] = set()
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._stopping = threading.Event()
        self.device = Device(self, PROFILES[profile])

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> "DeviceSimulator":
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self._port:
            self._sock.bind((self.host, self._port))
        else:   # kept after stop(): a test re-plugs the phone on this port
            self._port = bind_stable_port(self._sock, self.host)
        self._sock.listen(16)
        self._sock.settimeout(0.2)   # bounded accept loop: stop() is noticed within 0.2 s
        self._acceptor = threading.Thread(target=self._accept_loop, name="devsim-accept", daemon=True)
        self._acceptor.start()
        return self

    @property
    def port(self) -> int:
        return self._port

    @property
    def serial(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self) -> None:
        """Unplug: when this returns the port is free again (a test re-plugs a phone on it at once)."""
        self._stopping.set()
        if self._sock:
            # The accept thread's poll() holds its own reference to the listening socket, which stays in
            # LISTEN until that poll returns: shutdown wakes it, and the join waits for it to let go.
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
        acceptor = getattr(self, "_acceptor", None)
        if acceptor is not None and acceptor is not threading.current_thread():
            acceptor.join(timeout=5)
        self.drop_connections()
        self.device.fs.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- test hooks ----------------------------------------------------------------------------------------
    def device_path(self, p: str) -> pathlib.Path:
        """Host path of a device path (confined to the simulator's root), for tests to inspect."""
        return self.device.fs.host(normalize(p))

    def drop_connections_after_execs(self, n: int) -> None:
        """Cut every TCP connection once n more tool executions have finished (one shot)."""
        with self._lock:
            self._drop_after = self._execs + n

    def drop_connections(self) -> None:
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            c.kill()

    @property
    def exec_count(self) -> int:
        return self._execs

    def _log_exec(self, entry: dict, count: bool) -> None:
        with self._lock:
            self.exec_log.append(entry)
            if count:
                self._execs += 1
            fire = self._drop_after is not None and self._execs >= self._drop_after
            if fire:
                self._drop_after = None
        if fire:
            self.drop_count += 1
            self.drop_connections()

    # -- serving -------------------------------------------------------------------------------------------
    def _banner(self) -> bytes:
        p = self.device.props
        return (f"device::ro.product.name={p['ro.product.name']};ro.product.model={p['ro.product.model']};"
                f"ro.product.device={p['ro.product.device']};features={','.join(FEATURES)}").encode()

    def _open_service(self, name: str):
        if name.startswith("shell:"):
            return shell_service(self.device, name[len("shell:"):])
        if name.startswith("shell,") and ":" in name:
            # `shell,v2,raw:CMD` (adb >= 24's framed shell with exit codes); other options are ignored
            opts, _, command = name[len("shell,"):].partition(":")
            if "v2" in opts.split(","):
                return shell_v2_service(self.device, command)
            return shell_service(self.device, command)
        if name == "sync:":
            return sync_service(self.device)
        return None   # unknown service: the client gets CLSE, as from adbd

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(sock, self.keys, self._banner(), self._open_service,
                              refuse_auth=self.refuse_auth, on_auth=self.auth_log.append)
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: Connection) -> None:
        try:
            conn.serve()
        finally:
            with self._lock:
                self._conns.discard(conn)
