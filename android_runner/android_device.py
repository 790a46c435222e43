"""AndroidDevice: the bench harness's Device for a phone (or the simulator) over adb.

One cell = push tool and model (once per content hash), cool down, snapshot temps/clocks, run the
tool pinned with taskset, snapshot again, parse the tool's own numbers. A link that drops mid-cell is
reconnected (bounded retries with backoff) and only that cell is re-run; cells already returned to
the harness are the harness's to keep.
"""
from __future__ import annotations

import fcntl
import os
import re
import time
from pathlib import Path
from typing import Optional

from android_runner import profiles
from android_runner.device_info import DeviceInfo, read_device_info
from android_runner.parsers import parse_tool_output
from android_runner.push import Pusher
from android_runner.thermal import CoolDown, snapshot
from android_runner.tools import (TOOL_FOR_BACKEND, RunSpec, ToolError, check_android_elf, locate_tools,
                                  missing_tools_hint, paddlelite_argv, tflite_argv)
from android_runner.transport import (AdbTransport, DeviceConnectionLost, DeviceError, DeviceUnreachableError,
                                      RemoteCommandError, quote_argv)
from edge_kit.bench.cell import Cell, Measurement
from edge_kit.manifest import Artifact

RAW_OUTPUT_CAP = 20000   # chars of tool output kept with each result
SIM_BANNER = "EDGEKIT SIMULATED DEVICE"   # first line every simulator stand-in prints


class DeviceBusyError(DeviceError):
    pass


class SerialLock:
    """fcntl lock per serial so two edgekit processes never drive one phone at once (their runs
    would share cores and heat, and both numbers would be wrong). Released by the OS if we die."""

    def __init__(self, serial_label: str, lock_dir: Optional[os.PathLike] = None):
        d = Path(lock_dir or os.environ.get("EDGEKIT_LOCK_DIR") or Path.home() / ".cache" / "edgekit" / "locks")
        d.mkdir(parents=True, exist_ok=True)
        self.path = d / (re.sub(r"[^A-Za-z0-9._-]", "_", serial_label) + ".lock")
        self._fd: Optional[int] = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(self._fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(self._fd)
            self._fd = None
            raise DeviceBusyError(f"{serial_label} is already in use by another edgekit process (pid {holder}, "
                                  f"lock {self.path}); wait for it or use another phone") from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, str(os.getpid()).encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _input_shape(artifact: Artifact) -> str:
    """benchmark_bin's --input_shape: dims joined by ',', inputs by ':'; a dynamic dim runs as 1."""
    inputs = artifact.manifest.inputs or []
    if not inputs:
        raise ToolError(f"{artifact.path}: manifest lists no inputs; benchmark_bin needs --input_shape")
    return ":".join(",".join(str(d if isinstance(d, int) and d > 0 else 1) for d in i["shape"]) for i in inputs)


class AndroidDevice:
    def __init__(self, transport: AdbTransport, info: DeviceInfo, name: str, tools: dict[str, Path],
                 lock: Optional[SerialLock] = None, cooldown: Optional[CoolDown] = None, retries: int = 3,
                 backoff_s: float = 1.0, cpu_mask: Optional[str] = None, paddlelite_backend: str = "arm",
                 tflite_backend: str = "cpu", run_timeout_s: float = 600.0, profile_notes: tuple = ()):
        self.t, self.info, self.name, self.tools, self.lock = transport, info, name, tools, lock
        self.simulated = info.simulated
        self.cooldown = cooldown or CoolDown()
        self.retries, self.backoff_s, self.cpu_mask = retries, backoff_s, cpu_mask
        self.paddlelite_backend, self.tflite_backend = paddlelite_backend, tflite_backend
        self.run_timeout_s = run_timeout_s
        self.profile_notes = list(profile_notes)
        self.pusher = Pusher(transport)
        self.reconnects = 0

    # ---------------------------------------------------------------- Device protocol
    def describe(self) -> dict:
        d = {"device": self.name, "simulated": self.simulated, "serial": self.t.label,
             **self.info.as_dict(), "tools": {k: str(v) for k, v in self.tools.items()},
             "prime_mask": self.info.prime_mask(), "big_mask": self.info.big_mask()}
        if self.profile_notes:
            d["profile_warnings"] = self.profile_notes
        return d

    def backends(self) -> list[str]:
        return [b for b, tool in TOOL_FOR_BACKEND.items() if tool in self.tools]

    def artifact_target(self, backend: str) -> str:
        if backend == "paddlelite":
            # The simulator's stand-in runs the model with the host's Paddle-Lite, which has no ARM kernels.
            if self.simulated:
                return "x86"
            return "opencl" if self.paddlelite_backend == "opencl" else "arm"
        if backend == "tflite":
            return "cpu"
        raise ToolError(f"backend {backend!r} cannot run on an Android device (supported: {', '.join(TOOL_FOR_BACKEND)})")

    def default_mask(self, threads: int) -> str:
        """1 thread: the prime core; up to the big cores' count: the big cores; more: all cores."""
        if self.cpu_mask:
            return self.cpu_mask
        if threads == 1:
            return self.info.prime_mask()
        big = self.info.big_mask()
        if threads <= bin(int(big, 16)).count("1"):
            return big
        return format((1 << self.info.n_cores) - 1, "02x")

    def measure(self, cell: Cell, artifact: Artifact) -> Measurement:
        if cell.backend not in TOOL_FOR_BACKEND:
            self.artifact_target(cell.backend)   # raises the clear error
        if cell.backend not in self.backends():
            from android_runner.phone_tools import tools_guide

            raise ToolError(f"no {TOOL_FOR_BACKEND[cell.backend]} for backend {cell.backend}: {missing_tools_hint()}. "
                            f"Get: {tools_guide((TOOL_FOR_BACKEND[cell.backend],))}")
        last: Optional[Exception] = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
                try:
                    self.t.connect()
                    self.reconnects += 1
                except DeviceUnreachableError as e:   # still re-enumerating: count it as a failed try
                    last = e
                    continue
            try:
                m = self._measure_once(cell, artifact)
                m.extra["attempts"] = attempt + 1
                return m
            except DeviceConnectionLost as e:
                last = e
        raise DeviceConnectionLost(f"{cell.key()}: gave up after {self.retries + 1} attempts; last error: {last}")

    def close(self) -> None:
        self.t.close()
        if self.lock:
            self.lock.release()
            self.lock = None

    # ---------------------------------------------------------------- one run
    def _measure_once(self, cell: Cell, artifact: Artifact) -> Measurement:
        tool_name = TOOL_FOR_BACKEND[cell.backend]
        tool = self.pusher.push(self.tools[tool_name], executable=True)
        model = self.pusher.push(artifact.path)
        mask = self.default_mask(cell.threads)
        if cell.backend == "paddlelite":
            spec = RunSpec(cell.threads, cell.warmup, cell.repeats, cell.min_secs, self.paddlelite_backend, mask)
            argv = paddlelite_argv(tool.remote, model.remote, _input_shape(artifact), spec)
        else:
            spec = RunSpec(cell.threads, cell.warmup, cell.repeats, cell.min_secs, self.tflite_backend, mask)
            argv = tflite_argv(tool.remote, model.remote, spec)
        cool = self.cooldown.wait(self.t, self.info)
        before = snapshot(self.t, self.info)
        t0 = time.monotonic()
        out, rc = self.t.shell(argv, timeout_s=self.run_timeout_s)
        wall = time.monotonic() - t0
        after = snapshot(self.t, self.info)
        if rc != 0:
            head = " | ".join(out.strip().splitlines()[:3]) or "<no output>"
            raise RemoteCommandError(f"{tool_name} exited {rc} on {self.name} for {cell.model}: {head}")
        if SIM_BANNER in out and not self.simulated:
            # A stand-in answered although getprop said real hardware: never file it as a phone figure.
            base, at, serial = self.name.partition("@")
            self.simulated, self.name = True, base + "-sim" + at + serial
        m = parse_tool_output(tool_name, out)
        if not m.count:
            m.count = cell.repeats
        m.extra.update({
            "device": self.name, "simulated": self.simulated, "serial": self.t.label,
            "measured_on": f"{'simulated ' if self.simulated else ''}{self.info.model} ({self.info.platform})",
            "tool_cmdline": quote_argv(argv), "tool_sha256": tool.sha256, "model_remote": model.remote,
            "cpu_mask": mask, "cooldown": cool, "before": before, "after": after,
            "wall_s_including_adb": round(wall, 3),   # context only: never a latency figure
            "raw_output": out[-RAW_OUTPUT_CAP:],
        })
        return m


def make_transport(serial: Optional[str], adb_server: Optional[str] = None, key_path=None,
                   connect_timeout_s: float = 10.0):
    """The way to the phone: through an adb server when asked (`adb_server` 'tcp:HOST:PORT', or
    ADB_SERVER_SOCKET), or when a local server on 5037 already has this phone (a USB phone has one
    owner); otherwise edgekit's own ADB client, directly. `adb_server='none'` forces direct."""
    from android_runner.adb_server import (DEFAULT_PORT, AdbServer, ServerTransport, local_server_has,
                                           server_spec_from_env)

    spec = adb_server or server_spec_from_env()
    if spec in ("none", "direct"):
        spec = None
    elif spec is None and local_server_has(serial):
        spec = f"tcp:127.0.0.1:{DEFAULT_PORT}"
    if spec is None:
        return AdbTransport(serial, key_path=key_path, connect_timeout_s=connect_timeout_s)
    server = AdbServer.from_spec(spec, timeout_s=connect_timeout_s)
    if not serial or serial == "usb":
        ready = [d.serial for d in server.devices() if d.state == "device"]
        if len(ready) != 1:
            raise DeviceUnreachableError(
                f"adb server {server.label} has {len(ready)} ready device(s) ({', '.join(ready) or 'none'}); "
                f"pick one with --serial")
        serial = ready[0]
    return ServerTransport(server, serial, connect_timeout_s=connect_timeout_s)


def open_android_device(profile: str, serial: Optional[str], tool_dir: Optional[str], **opts) -> AndroidDevice:
    """Connect, read the phone, check it against `profile` (a profile name or 'auto'), check the tools'
    ELF headers against its ABI. opts: adb_server (see make_transport), name_suffix (appended to the
    recorded device name, e.g. '@SERIAL' in a multi-phone run), key_path, lock_dir, tool_config,
    cooldown (CoolDown), retries, backoff_s, cpu_mask, paddlelite_backend, tflite_backend,
    run_timeout_s, connect_timeout_s."""
    t = make_transport(serial, opts.pop("adb_server", None), key_path=opts.pop("key_path", None),
                       connect_timeout_s=opts.pop("connect_timeout_s", 10.0))
    lock = SerialLock(t.label, opts.pop("lock_dir", None))
    try:
        t.connect()
        info = read_device_info(t)
        name, prof, notes = profiles.resolve(profile, info)
        info.gate_zones = profiles.gate_zones(prof, info)
        name += opts.pop("name_suffix", "")
        tools = locate_tools(tool_dir, opts.pop("tool_config", None))
        if not tools and info.simulated:  # the simulator's stand-ins are built in: no --tool-dir needed
            from android_runner.phone_tools import simulator_standins

            tools = simulator_standins(info.abi)
        if not tools:
            from android_runner.phone_tools import tools_guide

            raise ToolError(f"no on-device benchmark tools found: {missing_tools_hint()}. Get: {tools_guide()}")
        for path in tools.values():
            check_android_elf(path, info.abi)
        return AndroidDevice(t, info, name, tools, lock=lock, profile_notes=tuple(notes), **opts)
    except BaseException:
        t.close()
        lock.release()
        raise
