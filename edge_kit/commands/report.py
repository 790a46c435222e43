"""`edgekit report` (not implemented yet)."""


def register(sub) -> None:
    p = sub.add_parser("report", help="(not implemented yet)")
    p.set_defaults(func=lambda args: print("not implemented yet") or 1)
