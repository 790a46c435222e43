"""Which machine a benchmark record was measured on.

A result is "already measured" only on the machine that measured it: the store's resume check and the
report group records by `machine_id(device_info)`. For the host that is a hash of the CPU model, core
count, architecture, OS and this computer's identity (/etc/machine-id and the host name), recorded in
every new record as device_info["machine_id"]. Records written before it existed get a hash of their
descriptive fields only, so they never match a machine that records an identity: on any machine, the
committed bench_results/ stay the project's reference measurements and `edgekit bench` measures anew.
A phone is identified by what adb reads off it (model, platform, ABI, SDK).
"""
from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

HOST_FIELDS = ("name", "cpu_model", "cores", "machine", "os")
PHONE_FIELDS = ("device", "model", "platform", "abi", "sdk")


def _digest(parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def this_computer() -> str:
    """/etc/machine-id plus the host name: containers made from one image share the machine id, and
    a host name alone may repeat across computers."""
    ident = ""
    for f in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            ident = Path(f).read_text().strip()
        except OSError:
            continue
        if ident:
            break
    return f"{ident}|{platform.node()}"


def host_machine_id(info: dict) -> str:
    return _digest([[k, info.get(k)] for k in HOST_FIELDS] + [["computer", _digest(this_computer())]])


def machine_id(info: dict | None) -> str:
    info = info or {}
    if info.get("machine_id"):
        return str(info["machine_id"])
    fields = PHONE_FIELDS if "platform" in info else HOST_FIELDS
    return _digest([[k, info.get(k)] for k in fields])


def machine_label(info: dict | None) -> str:
    """A short human name: 'Intel(R) Xeon(R) Processor, 2 cores, Linux 6.1 #1a2b3c'."""
    info = info or {}
    if "platform" in info:
        return f"{info.get('model', '?')} ({info.get('platform', '?')}) #{machine_id(info)[:6]}"
    return f"{info.get('cpu_model', '?')}, {info.get('cores', '?')} cores, {info.get('os', '?')} #{machine_id(info)[:6]}"
