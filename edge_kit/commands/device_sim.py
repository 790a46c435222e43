"""`edgekit device-sim`: serve a simulated Android device (real ADB wire protocol) on loopback."""
from __future__ import annotations

import threading

from edge_kit.errors import EdgekitError


def register(sub) -> None:
    p = sub.add_parser("device-sim", help="serve a simulated SD855 phone over the ADB protocol (for dry runs and CI)")
    from android_runner.simulator.server import PROFILES

    p.add_argument("--profile", default="sd855", choices=sorted(PROFILES),
                   help="device profile to present (default sd855; 'unknown' is a SoC no profile knows)")
    p.add_argument("--port", type=int, default=5555, help="TCP port on 127.0.0.1 (0 = any free port)")
    p.add_argument("--refuse-auth", action="store_true",
                   help="deny every new RSA key, as a user tapping 'Deny' would (to test that path)")
    p.set_defaults(func=run)


def run(args, stop: threading.Event | None = None) -> int:
    from android_runner.simulator import DeviceSimulator

    sim = DeviceSimulator(profile=args.profile, port=args.port, refuse_auth=args.refuse_auth)
    try:
        sim.start()
    except OSError as err:
        raise EdgekitError(f"device-sim: cannot listen on 127.0.0.1:{args.port}: {err.strerror}") from None
    print(f"edgekit device-sim: listening on 127.0.0.1:{sim.port} (simulated {args.profile}; "
          f"results measured here are labelled simulated)", flush=True)
    stop = stop or threading.Event()
    try:
        while not stop.wait(0.5):   # Ctrl-C raises KeyboardInterrupt here; the CLI reports it
            pass
    finally:
        sim.stop()
    return 0
