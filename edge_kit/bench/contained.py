"""One model's host cells measured in a child process, so a runtime that aborts (Paddle-Lite on a
truncated .nb exits with SIGABRT; LiteRT has segfaulted on absurd thread counts) fails the cells it had
not finished instead of taking the whole benchmark down.

The child runs edge_kit.bench.interleave exactly as the parent used to and sends each record back over
a pipe as soon as it is known; the parent writes it to the store. A spawned (not forked) child starts
clean: no OpenMP pools or runtime state inherited from the conversions the parent just ran.
"""
from __future__ import annotations

import multiprocessing as mp

from edge_kit.bench.interleave import measure_interleaved
from edge_kit.childproc import describe_exit


def _describe(exitcode: int | None) -> str:
    return "did not finish" if exitcode is None else describe_exit(exitcode)


class _PipeBar:
    def __init__(self, conn):
        self.conn = conn

    def update(self, message: str, advance: int = 0, force: bool = False) -> None:
        self.conn.send(("bar", message))


def _child(device, runnable, conn, cv_threshold: float) -> None:
    def record(cell, **kw):
        conn.send(("record", cell, kw))

    try:
        measure_interleaved(device, runnable, record, _PipeBar(conn), cv_threshold)
    except KeyboardInterrupt:
        pass
    finally:
        conn.close()


def _run_child(device, runnable, record, bar, cv_threshold: float):
    """One child over `runnable`; returns (exitcode, keys it reported, key of the cell it was loading)."""
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(device, runnable, send, cv_threshold), daemon=True)
    proc.start()
    send.close()  # the child holds the only writer: EOF on our end means it is gone
    reported, loading = set(), None
    try:
        while True:
            try:
                msg = receive.recv()
            except EOFError:
                break
            if msg[0] == "bar":
                text = msg[1]
                loading = text[: -len(": loading")] if text.endswith(": loading") else None
                bar.update(text)
            else:
                _, cell, kw = msg
                reported.add(cell.key())
                record(cell, **kw)
        proc.join()
    except BaseException:
        proc.terminate()
        proc.join(5)
        raise
    finally:
        receive.close()
    return proc.exitcode, reported, loading


def measure_contained(device, runnable, record, bar, cv_threshold: float) -> None:
    """measure_interleaved(device, runnable, ...) in a child. If the child dies while loading a cell,
    that cell fails (saying how the runtime died) and the model's other cells are measured in a fresh
    child; if it dies while timing, every cell it had not reported fails."""
    pending = list(runnable)
    while pending:
        code, reported, loading = _run_child(device, pending, record, bar, cv_threshold)
        if code == 0:
            return
        how = _describe(code)
        left = [(c, a) for c, a in pending if c.key() not in reported]
        culprit = [(c, a) for c, a in left if c.key() == loading]
        for cell, art in (culprit or left):
            record(cell, artifact=art, reason=f"{cell.backend}: the runtime process {how} while "
                   f"{'loading' if culprit else 'measuring'} {art.path}; other models' cells are unaffected")
        pending = [x for x in left if x not in culprit] if culprit else []
