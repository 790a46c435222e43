"""`edgekit devices`: the phones an adb server has, with model, SoC and state (the host protocol's
host:devices-l, plus getprop on each ready phone)."""
from __future__ import annotations

import argparse

import sys


def register(sub) -> None:
    p = sub.add_parser("devices", help="list the phones an adb server has: serial, state, model, SoC, profile",
                       description=__doc__, epilog="examples:\n  edgekit devices\n  edgekit devices --adb-server tcp:farm.example:5037\n",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--adb-server", metavar="tcp:HOST:PORT",
                   help="the adb server (default: $ADB_SERVER_SOCKET, else tcp:127.0.0.1:5037)")
    p.set_defaults(func=run)


def run(args) -> int:
    from android_runner.adb_server import DEFAULT_PORT, AdbServer, ServerTransport, server_spec_from_env
    from android_runner.device_info import read_device_info
    from android_runner.profiles import detect, mismatches
    from android_runner.transport import DeviceError

    spec = args.adb_server or server_spec_from_env() or f"tcp:127.0.0.1:{DEFAULT_PORT}"
    server = AdbServer.from_spec(spec)
    listed = server.devices()
    print(f"adb server {server.label} (protocol version {server.version()}): {len(listed)} device(s)")
    if not listed:
        return 0
    print("| serial | state | model | platform | SoC | cores | edgekit profile |")
    print("|---|---|---|---|---|---|---|")
    for d in listed:
        if d.state != "device":
            print(f"| {d.serial} | {d.state} | {d.model or '?'} | - | - | - | - |")
            continue
        try:
            info = read_device_info(ServerTransport(server, d.serial).connect())
        except DeviceError as err:
            print(f"| {d.serial} | {d.state} (unreadable: {err}) | {d.model or '?'} | - | - | - | - |")
            continue
        prof = detect(info)
        topo = "+".join(str(len(c.cpus)) for c in info.clusters)
        soc = prof.soc if prof else "unknown SoC (measured with its sysfs topology)"
        name = (prof.name if prof and not mismatches(prof, info) else info.platform or "android") \
            + ("-sim" if info.simulated else "")
        print(f"| {d.serial} | {d.state} | {info.model or d.model} | {info.platform} | {soc} | {topo} | {name} |")
    if any(d.state == "unauthorized" for d in listed):
        print("unauthorized: unlock those phones and tap 'Allow' on the USB debugging prompt", file=sys.stderr)
    return 0
