"""Phones through a running adb server (a local `adb start-server`, a lab's shared server, a device farm).

The adb *host* protocol, spoken by edgekit itself over a socket (adb's SERVICES.TXT / OVERVIEW.TXT):
a request is 4 hex digits of length + the text; the server answers `OKAY` or `FAIL` + 4 hex length +
message. `host:version`, `host:devices-l`, `host-serial:S:features` and `host:connect:H:P` answer with
one length-prefixed block. `host:transport:S` switches the socket to that phone; the next request is a
device service (`shell,v2,raw:CMD`, `sync:`) and the socket then carries that service's bytes.

Shell v2 (`shell_v2` feature) frames output as packets `id(1) len(4 LE) data` and ends with an EXIT
packet holding the exit status, so no marker has to be echoed; a phone without shell_v2 gets v1 `shell:`
plus the same echoed marker the direct transport uses. The server owns the phone and its RSA key:
authorisation is the server's business, edgekit only reports an `unauthorized` state.

`ServerTransport` offers what `AdbTransport` offers (shell, check, push, pull, stat, connect, close),
so AndroidDevice, Pusher, thermal and device_info work unchanged through either path.
"""
from __future__ import annotations

import os
import re
import socket
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from android_runner.transport import (RC_MARKER, DeviceAuthError, DeviceConnectionLost, DeviceUnreachableError,
                                      RemoteCommandError, check_output, quote_argv, split_exit_marker)

DEFAULT_PORT = 5037
V2_STDOUT, V2_STDERR, V2_EXIT = 1, 2, 3
SYNC_DATA_MAX = 64 * 1024
_TCP_SERIAL = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d+$")   # HOST:PORT, what `adb connect` names a device


class ServerError(DeviceUnreachableError):
    """The adb server answered FAIL (its message is kept)."""


def parse_server_socket(spec: str) -> tuple[str, int]:
    """'tcp:HOST:PORT', 'tcp:PORT', 'HOST:PORT' or 'PORT' (ADB_SERVER_SOCKET's and `adb -H/-P`'s forms)."""
    s = spec.strip()
    if s.startswith("tcp:"):
        s = s[4:]
    host, sep, port = s.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", s
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise DeviceUnreachableError(f"bad adb server address {spec!r}: expected tcp:HOST:PORT, e.g. tcp:127.0.0.1:5037")
    return (host.strip("[]") or "127.0.0.1"), int(port)


@dataclass
class ServerDevice:
    """One line of `host:devices-l`: `SERIAL  STATE key:value ...`."""
    serial: str
    state: str            # device | offline | unauthorized | no permissions | recovery | ...
    props: dict = field(default_factory=dict)   # product, model, device, usb, transport_id

    @property
    def model(self) -> str:
        return self.props.get("model", "").replace("_", " ")


def parse_devices_l(text: str) -> list[ServerDevice]:
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        serial, _, rest = line.partition(" ")
        words = rest.split()
        # the state may be two words ("no permissions ..."): everything before the first key:value
        state_words = []
        while words and ":" not in words[0]:
            state_words.append(words.pop(0))
        props = dict(w.split(":", 1) for w in words if ":" in w)
        out.append(ServerDevice(serial.strip(), " ".join(state_words) or "unknown", props))
    return out


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"the adb server closed the connection after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


class AdbServer:
    """A client of one adb server. Every request opens its own socket, as the adb client does."""

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT, timeout_s: float = 10.0):
        self.host, self.port, self.timeout_s = host, port, timeout_s

    @classmethod
    def from_spec(cls, spec: str, timeout_s: float = 10.0) -> "AdbServer":
        return cls(*parse_server_socket(spec), timeout_s=timeout_s)

    @property
    def label(self) -> str:
        return f"tcp:{self.host}:{self.port}"

    def _socket(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except OSError as e:
            raise DeviceUnreachableError(
                f"no adb server at {self.label} ({e.strerror or e}); start one with `adb start-server` "
                f"(or `adb -P PORT start-server`), or leave out --adb-server to talk to the phone directly") from e
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    @staticmethod
    def _send(sock: socket.socket, request: str) -> None:
        data = request.encode("utf-8")
        sock.sendall(b"%04x" % len(data) + data)

    @staticmethod
    def _status(sock: socket.socket, request: str) -> None:
        status = _recv_exact(sock, 4)
        if status == b"OKAY":
            return
        if status == b"FAIL":
            msg = _recv_exact(sock, int(_recv_exact(sock, 4), 16)).decode("utf-8", "replace")
            raise ServerError(f"adb server: {msg}")
        raise ConnectionError(f"unexpected adb server reply {status!r} to {request!r}")

    def query(self, request: str) -> str:
        """A host request that answers OKAY + one length-prefixed block."""
        with self._socket() as sock:
            try:
                self._send(sock, request)
                self._status(sock, request)
                return _recv_exact(sock, int(_recv_exact(sock, 4), 16)).decode("utf-8", "replace")
            except (ConnectionError, socket.timeout, ValueError) as e:
                raise DeviceUnreachableError(f"adb server {self.label} broke off {request!r}: {e}") from e

    def version(self) -> int:
        return int(self.query("host:version"), 16)

    def devices(self) -> list[ServerDevice]:
        return parse_devices_l(self.query("host:devices-l"))

    def features(self, serial: str) -> set[str]:
        return {f for f in self.query(f"host-serial:{serial}:features").strip().split(",") if f}

    def connect_device(self, address: str) -> str:
        """`adb connect HOST:PORT` (the server then owns that TCP phone); returns the server's message."""
        return self.query(f"host:connect:{address}").strip()

    def open(self, serial: str, service: str, timeout_s: Optional[float] = None) -> socket.socket:
        """A socket carrying `service` on phone `serial`. A phone the server no longer has is a lost
        connection (the caller may reconnect and retry), not a bad request."""
        sock = self._socket()
        try:
            self._send(sock, f"host:transport:{serial}")
            self._status(sock, "host:transport")
            self._send(sock, service)
            self._status(sock, service)
        except ServerError as e:
            sock.close()
            text = str(e)
            if "unauthorized" in text:
                raise DeviceAuthError(f"{serial} has not authorised the adb server's key ({text}); unlock the phone "
                                      f"and tap 'Allow' on the USB debugging prompt") from e
            # "device offline", "device 'X' not found", "closed" (the link dropped as the service opened):
            # the phone is gone for now, and the runner's reconnect-and-retry is the right answer
            raise DeviceConnectionLost(f"{serial} is gone from adb server {self.label} ({text})") from e
        except (ConnectionError, socket.timeout, OSError) as e:
            sock.close()
            raise DeviceConnectionLost(f"adb server {self.label} dropped {service.split(':')[0]} on {serial}: {e}") from e
        sock.settimeout(timeout_s)
        return sock


class ServerTransport:
    """One phone behind an adb server, with AdbTransport's interface."""

    kind = "server"

    def __init__(self, server: AdbServer, serial: str, connect_timeout_s: float = 10.0):
        self.server, self.serial = server, serial
        self.connect_timeout_s = connect_timeout_s
        self.features: set[str] = set()
        self.no_sh_loop = False
        self.reattached = 0     # how many times we asked the server to `connect` a TCP phone again

    @property
    def label(self) -> str:
        return self.serial

    # ------------------------------------------------------------------ connection
    def connect(self) -> "ServerTransport":
        """Make sure the server has the phone in state `device`. A TCP phone the server lost (it went
        away and came back) is re-attached with `host:connect`, as `adb connect` would."""
        self.server.version()   # a clear error when no server listens
        deadline = time.monotonic() + self.connect_timeout_s
        asked = False
        while True:
            state = {d.serial: d.state for d in self.server.devices()}.get(self.serial)
            if state == "device":
                break
            if state == "unauthorized":
                raise DeviceAuthError(f"{self.serial} has not authorised the adb server's key; unlock the phone "
                                      f"and tap 'Allow' on the USB debugging prompt (tick 'Always allow')")
            if not asked and _TCP_SERIAL.match(self.serial) and state in (None, "offline"):
                said = self.server.connect_device(self.serial)
                asked = True
                self.reattached += 1
                if said.startswith(("failed to connect", "unable to connect", "cannot connect")):
                    # nothing listens there now: say so at once instead of polling until the deadline
                    raise DeviceUnreachableError(f"adb server {self.server.label} cannot reach {self.serial}: {said}")
            elif time.monotonic() > deadline:
                known = ", ".join(f"{d.serial} ({d.state})" for d in self.server.devices()) or "none"
                raise DeviceUnreachableError(
                    f"adb server {self.server.label} has no usable device {self.serial!r} (state: {state or 'absent'}); "
                    f"devices it lists: {known}")
            time.sleep(0.2)
        self.features = self.server.features(self.serial)
        return self

    def close(self) -> None:
        """Nothing to close: each service runs on its own socket, closed when it ends."""

    # ------------------------------------------------------------------ shell
    def shell(self, argv: Sequence[str], timeout_s: float = 60.0) -> tuple[str, int]:
        """Run argv on the device; returns (stdout+stderr, exit code). Every element is quoted."""
        cmd = quote_argv(argv) + " 2>&1"
        if "shell_v2" in self.features:
            return self._shell_v2(cmd, timeout_s)
        return self._shell_v1(cmd + "; echo " + RC_MARKER + "$?", timeout_s)

    def _shell_v2(self, cmd: str, timeout_s: float) -> tuple[str, int]:
        sock = self.server.open(self.serial, "shell,v2,raw:" + cmd, timeout_s)
        out = bytearray()
        try:
            with sock:
                while True:
                    kind, n = struct.unpack("<BI", _recv_exact(sock, 5))
                    data = _recv_exact(sock, n) if n else b""
                    if kind in (V2_STDOUT, V2_STDERR):
                        out += data
                    elif kind == V2_EXIT:
                        rc = data[0] if data else 255
                        break
        except (ConnectionError, socket.timeout, OSError, struct.error) as e:
            raise DeviceConnectionLost(f"lost {self.serial} mid-command through {self.server.label} "
                                       f"({type(e).__name__}: {e})") from e
        return out.decode("utf-8", "replace").replace("\r\n", "\n"), rc

    def _shell_v1(self, cmd: str, timeout_s: float) -> tuple[str, int]:
        sock = self.server.open(self.serial, "shell:" + cmd, timeout_s)
        chunks = []
        try:
            with sock:
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
        except (socket.timeout, OSError) as e:
            raise DeviceConnectionLost(f"lost {self.serial} mid-command ({type(e).__name__}: {e})") from e
        return split_exit_marker(b"".join(chunks), self.label)

    def check(self, argv: Sequence[str], timeout_s: float = 60.0) -> str:
        return check_output(self, argv, timeout_s)

    # ------------------------------------------------------------------ sync
    def _sync(self, what: str, fn, timeout_s: float):
        sock = self.server.open(self.serial, "sync:", timeout_s)
        try:
            with sock:
                result = fn(sock)
                sock.sendall(b"QUIT" + struct.pack("<I", 0))
                return result
        except (ConnectionError, socket.timeout, OSError, struct.error) as e:
            raise DeviceConnectionLost(f"lost {self.serial} during {what} ({type(e).__name__}: {e})") from e

    @staticmethod
    def _fail(sock, what: str, serial: str) -> RemoteCommandError:
        msg = _recv_exact(sock, struct.unpack("<I", _recv_exact(sock, 4))[0]).decode("utf-8", "replace")
        return RemoteCommandError(f"{what} failed on {serial}: {msg}")

    def push(self, local: os.PathLike, remote: str, mode: int = 0o644, timeout_s: float = 300.0) -> None:
        def go(sock):
            spec = f"{remote},{0o100000 | mode}".encode()
            sock.sendall(b"SEND" + struct.pack("<I", len(spec)) + spec)
            with open(local, "rb") as f:
                for chunk in iter(lambda: f.read(SYNC_DATA_MAX), b""):
                    sock.sendall(b"DATA" + struct.pack("<I", len(chunk)) + chunk)
            sock.sendall(b"DONE" + struct.pack("<I", int(Path(local).stat().st_mtime)))
            tag = _recv_exact(sock, 4)
            if tag == b"FAIL":
                raise self._fail(sock, f"push {remote}", self.serial)
            _recv_exact(sock, 4)
            if tag != b"OKAY":
                raise ConnectionError(f"unexpected sync reply {tag!r} to SEND")
        self._sync(f"push {remote}", go, timeout_s)

    def pull(self, remote: str, local: os.PathLike, timeout_s: float = 300.0) -> None:
        def go(sock):
            path = remote.encode()
            sock.sendall(b"RECV" + struct.pack("<I", len(path)) + path)
            tmp = Path(str(local) + ".part")
            with open(tmp, "wb") as f:
                while True:
                    tag = _recv_exact(sock, 4)
                    if tag == b"DATA":
                        f.write(_recv_exact(sock, struct.unpack("<I", _recv_exact(sock, 4))[0]))
                    elif tag == b"DONE":
                        _recv_exact(sock, 4)
                        break
                    elif tag == b"FAIL":
                        raise self._fail(sock, f"pull {remote}", self.serial)
                    else:
                        raise ConnectionError(f"unexpected sync reply {tag!r} to RECV")
            os.replace(tmp, local)
        try:
            self._sync(f"pull {remote}", go, timeout_s)
        finally:
            Path(str(local) + ".part").unlink(missing_ok=True)

    def stat(self, remote: str, timeout_s: float = 30.0) -> tuple[int, int, int]:
        """(mode, size, mtime); all zero when the path does not exist (sync STAT v1)."""
        def go(sock):
            path = remote.encode()
            sock.sendall(b"STAT" + struct.pack("<I", len(path)) + path)
            tag = _recv_exact(sock, 4)
            if tag != b"STAT":
                raise ConnectionError(f"unexpected sync reply {tag!r} to STAT")
            return struct.unpack("<III", _recv_exact(sock, 12))
        return self._sync(f"stat {remote}", go, timeout_s)


def server_spec_from_env() -> Optional[str]:
    """ADB_SERVER_SOCKET (adb's own variable, e.g. tcp:lab-host:5037), if set."""
    return os.environ.get("ADB_SERVER_SOCKET") or None


def local_server_has(serial: Optional[str], port: Optional[int] = None) -> bool:
    """Whether a local adb server on `port` is running and lists `serial` (any device if None) as ready.
    Used to prefer the server when one already owns the phone (a USB phone can have only one owner)."""
    try:
        devs = AdbServer("127.0.0.1", port or DEFAULT_PORT, timeout_s=2.0).devices()
    except DeviceUnreachableError:
        return False
    return any(d.state == "device" and (serial is None or d.serial == serial) for d in devs)
