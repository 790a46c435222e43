"""Several phones at once: pick them (by serial list, or every device an adb server lists that matches a
profile), then one worker thread per phone runs the ordinary `run_bench` against it.

Why this keeps every cell measured once:
- each phone is recorded under its own device name `PROFILE@SERIAL` (two SD855s are two columns, and
  a re-run of the same command finds each phone's finished cells by that name and skips them);
- a serial given twice is one phone, one worker;
- each worker holds the phone's per-serial lock (android_device.SerialLock), so a second edgekit
  process cannot drive the same phone meanwhile;
- all workers append to one results store; a record is one whole-line O_APPEND write.
Threads, not processes: the work on the host side is waiting for adb; the phones do the computing.
"""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from edge_kit.errors import EdgekitError


@dataclass
class PhoneRun:
    serial: str
    device: object = None               # AndroidDevice, None when it could not be opened
    summary: object = None              # harness.BenchSummary
    error: Optional[str] = None         # why the phone could not be opened, or why its worker stopped
    seconds: float = 0.0
    skipped_reason: Optional[str] = None   # listed by the server but not the requested profile
    artifacts: tuple = ()                  # --artifact files loaded for this phone (targets differ per phone)

    @property
    def name(self) -> str:
        return self.device.name if self.device is not None else self.serial


@dataclass
class FarmResult:
    runs: list[PhoneRun] = field(default_factory=list)

    @property
    def devices(self) -> list:
        return [r.device for r in self.runs if r.device is not None]

    def text(self) -> str:
        """Which phone did what."""
        used = [r for r in self.runs if r.skipped_reason is None]
        lines = [f"phones: {len(used)} selected, {sum(1 for r in used if r.device is not None)} opened"]
        for r in self.runs:
            if r.skipped_reason:
                lines.append(f"  {r.serial}: not used ({r.skipped_reason})")
                continue
            if r.device is None:
                lines.append(f"  {r.serial}: could not be opened: {r.error}")
                continue
            info = r.device.info
            sim = ", SIMULATED" if r.device.simulated else ""
            head = f"  {r.name}: {info.model or '?'} ({info.platform or '?'}{sim})"
            if r.summary is None:
                lines.append(f"{head}: worker stopped: {r.error}")
                continue
            s = r.summary
            lines.append(f"{head}: measured {len(s.measured)}, skipped {len(s.skipped_done)} already in the store, "
                         f"failed {len(s.failed)}, reconnects {getattr(r.device, 'reconnects', 0)}, "
                         f"{r.seconds:.1f} s")
            lines += [f"    failed {k}: {why}" for k, why in s.failed]
            if s.interrupted:
                lines.append("    interrupted: re-run the command to resume")
        return "\n".join(lines)


def split_serials(text: Optional[str]) -> list[str]:
    """'A,B,A' -> ['A', 'B']: order kept, a phone named twice is one phone."""
    out: list[str] = []
    for s in (text or "").split(","):
        s = s.strip()
        if s and s not in out:
            out.append(s)
    return out


def open_phones(profile: str, serials: Optional[list[str]], tool_dir: Optional[str], adb_server: Optional[str] = None,
                log: Callable[[str], None] = lambda m: print(m, file=sys.stderr), **opts) -> FarmResult:
    """Open each phone (named PROFILE@SERIAL). serials None: every ready device the adb server lists,
    keeping those whose detected profile is `profile` ('auto' keeps all). A phone that cannot be opened
    is reported and left out; the others go on."""
    from android_runner.adb_server import AdbServer, DEFAULT_PORT, server_spec_from_env
    from android_runner.android_device import open_android_device

    result = FarmResult()
    by_profile = serials is None
    if by_profile:
        spec = adb_server or server_spec_from_env() or f"tcp:127.0.0.1:{DEFAULT_PORT}"
        if spec in ("none", "direct"):
            raise EdgekitError("choosing phones by profile needs an adb server to list them; pass --serial A,B "
                               "or --adb-server tcp:HOST:PORT")
        adb_server = spec
        server = AdbServer.from_spec(spec)
        listed = server.devices()
        for d in listed:
            if d.state != "device":
                result.runs.append(PhoneRun(d.serial, skipped_reason=f"state {d.state}"))
        serials = [d.serial for d in listed if d.state == "device"]
        if not serials:
            raise EdgekitError(f"adb server {server.label} lists no ready device")
    for serial in serials:
        run = PhoneRun(serial)
        result.runs.append(run)
        try:
            dev = open_android_device("auto" if by_profile else profile, serial, tool_dir, adb_server=adb_server,
                                      name_suffix=f"@{serial}", **dict(opts))
        except EdgekitError as err:
            run.error = str(err)
            log(f"edgekit: {serial}: {err}")
            continue
        base = dev.name.split("@")[0].removesuffix("-sim")
        if by_profile and profile != "auto" and base != profile:
            dev.close()
            run.skipped_reason = f"it is {base}, not {profile}"
            continue
        run.device = dev
    if not result.devices:
        errors = "; ".join(f"{r.serial}: {r.error or r.skipped_reason}" for r in result.runs)
        raise EdgekitError(f"no phone could be used ({errors})")
    return result


def bench_phones(models: list[str], profile: str, serials: Optional[list[str]], tool_dir: Optional[str] = None,
                 adb_server: Optional[str] = None, artifact_paths=(), **bench_kw) -> FarmResult:
    """`edgekit bench --device PROFILE --serial A,B` (serials None: 'all'): open the phones, load each
    phone's --artifact files (a simulator runs x86 .nb files, a phone ARM ones), run them all (run_farm
    with bench_kw), close them. FarmResult says what each phone did."""
    from edge_kit.bench.harness import load_artifacts

    farm = open_phones(profile, serials, tool_dir, adb_server=adb_server)
    try:
        for run in farm.runs:
            if run.device is not None:
                run.artifacts = tuple(load_artifacts(list(artifact_paths), run.device))
        run_farm(models, farm, **bench_kw)
    finally:
        for dev in farm.devices:
            dev.close()
    return farm


def run_farm(models: list[str], farm: FarmResult, **bench_kw) -> FarmResult:
    """One worker thread per opened phone, each running run_bench on its phone into the shared store.
    Progress (off unless bench_kw says progress=True) is one line per cell, each naming its phone."""
    from edge_kit.bench.harness import run_bench

    bench_kw.setdefault("progress", False)

    def work(run: PhoneRun) -> None:
        t0 = time.monotonic()
        try:
            run.summary = run_bench(models, run.device, artifacts=run.artifacts, **bench_kw)
        except EdgekitError as err:
            run.error = str(err)
        except Exception as err:   # one phone's bug must not take the other phones' results with it
            run.error = f"{type(err).__name__}: {err}"
        finally:
            run.seconds = time.monotonic() - t0

    workers = [threading.Thread(target=work, args=(r,), name=f"phone-{r.serial}", daemon=True)
               for r in farm.runs if r.device is not None]
    for w in workers:
        w.start()
    for w in workers:
        while w.is_alive():
            w.join(0.5)   # a bounded join keeps Ctrl-C deliverable to the main thread
    return farm
