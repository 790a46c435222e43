"""`edgekit bundle` (not implemented yet)."""


def register(sub) -> None:
    p = sub.add_parser("bundle", help="(not implemented yet)")
    p.set_defaults(func=lambda args: print("not implemented yet") or 1)
