"""`edgekit device-sim`: serve a simulated Android device (real ADB wire protocol) on loopback."""
from __future__ import annotations

import argparse
import signal
import threading

from edge_kit.errors import EdgekitError


def _port(text: str) -> int:
    import argparse

    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port is an integer from 0 to 65535, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is an integer from 0 to 65535, got {port}")
    return port


def register(sub) -> None:
    from android_runner.simulator.server import PROFILES

    p = sub.add_parser("device-sim", help="serve a simulated phone (SD855 by default) over the ADB protocol (dry runs, CI)",
                       description="""Serve a simulated phone (a Snapdragon 855 by default) on 127.0.0.1 speaking the real ADB protocol, for
dry runs and CI. Its stand-in benchmark tools run the model with the host's runtimes; everything
measured on it is labelled simulated. Stop it with Ctrl-C or SIGTERM (its sandbox is removed).\n\nexamples:
  edgekit device-sim --port 5557 &
  edgekit bench MobileNetV3_small_ssld --device sd855 --serial 127.0.0.1:5557\n""",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="sd855", choices=sorted(PROFILES),
                   help="device profile to present (default sd855; 'unknown' is a SoC no profile knows)")
    p.add_argument("--port", type=_port, default=5555, help="TCP port on 127.0.0.1 (0 = any free port)")
    p.add_argument("--refuse-auth", action="store_true",
                   help="deny every new RSA key, as a user tapping 'Deny' would (to test that path)")
    p.set_defaults(func=run)


def run(args, stop: threading.Event | None = None) -> int:
    from android_runner.simulator import DeviceSimulator

    stop = stop or threading.Event()
    main = threading.current_thread() is threading.main_thread()
    if main:
        # SIGTERM (kill, systemd, CI teardown) stops the simulator like Ctrl-C: its sandbox of pushed
        # models is removed in the finally below instead of staying in /tmp
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sim = DeviceSimulator(profile=args.profile, port=args.port, refuse_auth=args.refuse_auth)
    try:
        sim.start()
    except OSError as err:
        raise EdgekitError(f"device-sim: cannot listen on 127.0.0.1:{args.port}: {err.strerror}") from None
    print(f"edgekit device-sim: listening on 127.0.0.1:{sim.port} (simulated {args.profile}; "
          f"results measured here are labelled simulated)", flush=True)
    try:
        while not stop.wait(0.5):   # Ctrl-C raises KeyboardInterrupt here; the CLI reports it
            pass
    finally:
        sim.stop()
        if main:
            signal.signal(signal.SIGTERM, previous)
    return 0
