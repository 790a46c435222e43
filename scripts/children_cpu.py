"""CPU seconds of a measurement script's finished children, shared by the measurement scripts.

They time tool processes on a shared 2-core machine, where wall time is inflated by other work and CPU
time (user + system) is the steadier figure.
"""
import resource


def children_cpu() -> float:
    """User + system CPU seconds of every descendant that ended and was waited for."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
