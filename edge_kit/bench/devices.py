"""Opening the device a benchmark runs on, by name: the host, a phone profile (sd855, ...) or "auto".

The Python API and `edgekit bench` share this: `open_device("sd855", serial="127.0.0.1:5557")` is what
`--device sd855 --serial 127.0.0.1:5557` does. Several phones at once are android_runner.farm's job.
"""
from __future__ import annotations

import sys
from typing import Callable, Optional

from edge_kit.errors import EdgekitError

try:
    from android_runner.profiles import PROFILES as _PHONE_PROFILES
except ImportError:   # no phone runner installed: host only
    _PHONE_PROFILES = {}
DEVICES = ("host", "auto", "gpu", *_PHONE_PROFILES)

HOST_THREADS = (1, 2)
# one thread on the prime core and four on the big cores, as published SD855 tables are taken
PHONE_THREADS = (1, 4)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def default_threads(device) -> tuple[int, ...]:
    return HOST_THREADS if device.name == "host" else PHONE_THREADS


def open_device(name: str, serial: Optional[str] = None, tool_dir: Optional[str] = None, mkldnn: bool = False,
                adb_server: Optional[str] = None, log: Callable[[str], None] = _stderr):
    """A Device (edge_kit.bench.cell.Device) by name. "auto" is the phone on `serial` (or the only one
    attached) if there is one, else the host; `log` is told which it picked and why."""
    if name not in DEVICES:
        raise EdgekitError(f"unknown device {name!r}; choose from {', '.join(DEVICES)}")
    if name == "host":
        from edge_kit.bench.host_device import HostDevice

        return HostDevice({"mkldnn": True} if mkldnn else None)
    try:
        from android_runner.android_device import open_android_device
    except ImportError as err:
        if name == "auto":
            log(f"edgekit: no phone runner ({err}); benchmarking the host")
            return open_device("host", mkldnn=mkldnn)
        raise EdgekitError(f"--device {name} needs android_runner.android_device, which is not available: {err}") \
            from err
    try:
        device = open_android_device(name, serial, tool_dir, adb_server=adb_server)
    except EdgekitError as err:
        if name != "auto":
            raise
        log(f"edgekit: --device auto: no phone ({err}); benchmarking the host")
        return open_device("host", mkldnn=mkldnn)
    if name == "auto":
        log(f"edgekit: --device auto picked {device.name}")
    return device
