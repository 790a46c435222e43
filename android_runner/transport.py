"""ADB transport: the real adb_shell client over TCP (adb tcpip / wireless debugging) or USB.

Every shell command is built from an argv list and each element goes through shlex.quote, so a model
name like `m; reboot $(x).tflite` reaches the phone as one literal argument. adb's v1 `shell:` service
does not report exit codes, so we append a fixed `; echo <marker>$?` (a constant, never user data).
"""
from __future__ import annotations

import os
import re
import shlex
import socket
import struct
from pathlib import Path
from typing import Optional, Sequence

from edge_kit.errors import EdgekitError

RC_MARKER = "__EDGEKIT_RC__="
_RC_RE = re.compile(re.escape(RC_MARKER) + r"(\d+)\s*$")


class DeviceError(EdgekitError):
    """Anything about reaching or driving the phone."""


class DeviceUnreachableError(DeviceError):
    pass


class DeviceAuthError(DeviceError):
    pass


class DeviceConnectionLost(DeviceError):
    """The link dropped mid-command; callers may reconnect and retry."""


class RemoteCommandError(DeviceError):
    pass


def default_key_path() -> Path:
    return Path(os.environ.get("EDGEKIT_ADB_KEY") or Path.home() / ".android" / "adbkey")


def ensure_adb_key(key_path: Optional[os.PathLike] = None) -> Path:
    """Create the RSA key pair once (as `adb` does) and reuse it afterwards: a phone that trusted the
    key keeps trusting it, so the user answers the 'Allow USB debugging?' prompt only once."""
    from adb_shell.auth.keygen import keygen

    path = Path(key_path) if key_path else default_key_path()
    if not path.exists():
        # ~/.android holds a private key: 0700 whatever the umask (mkdir's mode is masked, so chmod too)
        created = not path.parent.exists()
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if created:
            os.chmod(path.parent, 0o700)
        # Create the file 0600 before keygen writes the private key into it (no readable window).
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        keygen(str(path))
        os.chmod(path, 0o600)
    return path


def load_signer(key_path: Path):
    from adb_shell.auth.sign_pythonrsa import PythonRSASigner

    try:
        return PythonRSASigner.FromRSAKeyPath(str(key_path))
    except Exception as e:  # malformed PEM, missing .pub, permissions
        raise DeviceAuthError(f"cannot read ADB key {key_path} ({e}); delete it and its .pub to make a new one") from e


def parse_serial(serial: Optional[str]) -> tuple[str, object]:
    """'HOST:PORT' / 'HOST' (has a dot) -> ('tcp', (host, port)); 'usb', 'usb:SER' or a bare USB
    serial -> ('usb', SER or None)."""
    if not serial or serial == "usb":
        return "usb", None
    if serial.startswith("usb:"):
        return "usb", serial[4:] or None
    if ":" in serial:
        host, _, port = serial.rpartition(":")
        if not port.isdigit():
            raise DeviceUnreachableError(f"bad serial {serial!r}: expected HOST:PORT, e.g. 192.168.1.20:5555")
        return "tcp", (host.strip("[]"), int(port))
    if "." in serial or serial == "localhost":
        return "tcp", (serial, 5555)
    return "usb", serial


def _eof_safe_tcp_transport(host: str, port: int):
    """adb_shell's TcpTransport returns b'' forever once the peer closes, and the reader then spins
    until its (long, for benchmarks) read timeout. Turn EOF into an immediate connection error."""
    from adb_shell.exceptions import AdbConnectionError
    from adb_shell.transport.tcp_transport import TcpTransport

    class _Transport(TcpTransport):
        def bulk_read(self, numbytes, transport_timeout_s):
            data = super().bulk_read(numbytes, transport_timeout_s)
            if not data:
                raise AdbConnectionError(f"{host}:{port} closed the connection")
            return data

    return _Transport(host, port)


def split_exit_marker(raw: bytes, label: str) -> tuple[str, int]:
    """(output, exit code) of a shell run as `CMD 2>&1; echo RC_MARKER$?`. The marker is the last thing
    the shell prints; without it the command was cut off."""
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
    m = _RC_RE.search(text)
    if not m:
        raise DeviceConnectionLost(f"{label}: shell output ended before the command finished")
    return text[:m.start()], int(m.group(1))


def check_output(transport, argv: Sequence[str], timeout_s: float = 60.0) -> str:
    """`transport.shell(argv)`'s output; a non-zero exit is a RemoteCommandError with its first lines."""
    out, rc = transport.shell(argv, timeout_s)
    if rc != 0:
        first = out.strip().splitlines()[:2]
        raise RemoteCommandError(f"`{quote_argv(argv)}` exited {rc} on {transport.label}: {' | '.join(first)}")
    return out


def quote_argv(argv: Sequence[str]) -> str:
    if isinstance(argv, (str, bytes)):
        raise TypeError("shell() takes an argv list, never a command string")
    return " ".join(shlex.quote(str(a)) for a in argv)


class AdbTransport:
    """One ADB connection. `serial` as accepted by parse_serial."""

    def __init__(self, serial: Optional[str], key_path: Optional[os.PathLike] = None,
                 connect_timeout_s: float = 10.0, auth_timeout_s: float = 30.0):
        self.serial = serial
        self.kind, self.address = parse_serial(serial)
        self.key_path = ensure_adb_key(key_path)
        self.connect_timeout_s = connect_timeout_s
        self.auth_timeout_s = auth_timeout_s
        self._dev = None
        self.no_sh_loop = False   # set by device_info.read_files when the device shell lacks `sh -c` loops

    @property
    def label(self) -> str:
        if self.kind == "tcp":
            return "%s:%d" % self.address
        return f"usb:{self.address or 'first device'}"

    # ------------------------------------------------------------------ connection
    def connect(self) -> "AdbTransport":
        from adb_shell import exceptions as ex
        from adb_shell.adb_device import AdbDevice

        self.close()
        if self.kind == "tcp":
            dev = AdbDevice(_eof_safe_tcp_transport(*self.address), default_transport_timeout_s=self.connect_timeout_s)
        else:
            dev = self._usb_device()
        signer = load_signer(self.key_path)
        try:
            dev.connect(rsa_keys=[signer], transport_timeout_s=self.connect_timeout_s,
                        auth_timeout_s=self.auth_timeout_s, read_timeout_s=self.connect_timeout_s)
        except (ConnectionRefusedError, socket.gaierror, socket.timeout, ex.TcpTimeoutException, OSError) as e:
            raise DeviceUnreachableError(
                f"cannot reach {self.label} ({e}); is the phone on, `adb tcpip 5555` (or wireless "
                f"debugging) enabled and the address right?") from e
        except (ex.DeviceAuthError, ex.InvalidResponseError, ex.AdbTimeoutError, ex.AdbConnectionError) as e:
            raise DeviceAuthError(
                f"{self.label} did not accept our ADB key {self.key_path}.pub ({e}); unlock the phone, tap "
                f"'Allow' on the USB debugging prompt (tick 'Always allow') and run again") from e
        except ex.UsbDeviceNotFoundError as e:
            raise DeviceUnreachableError(f"no USB device with serial {self.address!r}; check `--serial` and the cable") from e
        except (ex.InvalidCommandError, ex.InvalidChecksumError, ValueError, struct.error) as e:
            # something answered, but not in ADB's protocol (e.g. a web server at that port)
            raise DeviceUnreachableError(
                f"{self.label} answered but is not an ADB device ({type(e).__name__}); check that `--serial` "
                f"is the phone's adb address (`adb devices` lists it)") from e
        self._dev = dev
        return self

    def _usb_device(self):
        from adb_shell import exceptions as ex
        from adb_shell.adb_device import AdbDeviceUsb

        try:
            return AdbDeviceUsb(serial=self.address, default_transport_timeout_s=self.connect_timeout_s)
        except ex.InvalidTransportError as e:
            raise DeviceUnreachableError(
                "USB needs libusb1: `pip install adb-shell[usb]` and the libusb-1.0-0 system package, or "
                "connect over TCP with --serial HOST:PORT") from e
        except ex.UsbDeviceNotFoundError as e:
            raise DeviceUnreachableError(f"no USB device with serial {self.address!r}; check `--serial` and the cable") from e

    def close(self) -> None:
        if self._dev is not None:
            try:
                self._dev.close()
            except Exception:  # closing a dead link must not mask the error that killed it
                pass
            self._dev = None

    def _require(self):
        if self._dev is None or not self._dev.available:
            raise DeviceConnectionLost(f"not connected to {self.label}")
        return self._dev

    def _lost(self, e: Exception) -> DeviceConnectionLost:
        self.close()
        return DeviceConnectionLost(f"lost the connection to {self.label} ({type(e).__name__}: {e})")

    # ------------------------------------------------------------------ services
    def shell(self, argv: Sequence[str], timeout_s: float = 60.0) -> tuple[str, int]:
        """Run argv on the device; returns (stdout+stderr, exit code). Every element is quoted."""
        from adb_shell import exceptions as ex

        cmd = quote_argv(argv) + " 2>&1; echo " + RC_MARKER + "$?"
        dev = self._require()
        try:
            raw = dev.shell(cmd, transport_timeout_s=timeout_s, read_timeout_s=timeout_s,
                            timeout_s=timeout_s, decode=False)
        except (ex.AdbConnectionError, ex.AdbTimeoutError, ex.TcpTimeoutException, ex.InvalidResponseError,
                ex.InvalidCommandError, ConnectionError, OSError) as e:
            raise self._lost(e) from e
        return split_exit_marker(raw, self.label)

    def check(self, argv: Sequence[str], timeout_s: float = 60.0) -> str:
        return check_output(self, argv, timeout_s)

    def _sync(self, what: str, fn, *args, **kw):
        from adb_shell import exceptions as ex

        self._require()
        try:
            return fn(*args, **kw)
        except (ex.AdbConnectionError, ex.AdbTimeoutError, ex.TcpTimeoutException, ex.InvalidResponseError,
                ConnectionError) as e:
            raise self._lost(e) from e
        except (ex.AdbCommandFailureException, ex.PushFailedError, ex.DevicePathInvalidError) as e:
            raise RemoteCommandError(f"{what} failed on {self.label}: {e}") from e

    def push(self, local: os.PathLike, remote: str, mode: int = 0o644, timeout_s: float = 300.0) -> None:
        dev = self._require()
        self._sync(f"push {remote}", dev.push, str(local), remote, st_mode=0o100000 | mode,
                   transport_timeout_s=timeout_s, read_timeout_s=timeout_s)

    def pull(self, remote: str, local: os.PathLike, timeout_s: float = 300.0) -> None:
        dev = self._require()
        self._sync(f"pull {remote}", dev.pull, remote, str(local), transport_timeout_s=timeout_s,
                   read_timeout_s=timeout_s)

    def stat(self, remote: str, timeout_s: float = 30.0) -> tuple[int, int, int]:
        """(mode, size, mtime); all zero when the path does not exist (that is what sync STAT says)."""
        dev = self._require()
        return self._sync(f"stat {remote}", dev.stat, remote, transport_timeout_s=timeout_s,
                          read_timeout_s=timeout_s)
