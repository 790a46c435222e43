"""`edgekit device-sim` (not implemented yet)."""


def register(sub) -> None:
    p = sub.add_parser("device-sim", help="(not implemented yet)")
    p.set_defaults(func=lambda args: print("not implemented yet") or 1)
