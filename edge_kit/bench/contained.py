"""One model's host cells measured in a child process, so a runtime that aborts (Paddle-Lite on a
truncated .nb exits with SIGABRT; LiteRT has segfaulted on absurd thread counts) fails the cells it had
not finished instead of taking the whole benchmark down.

The child runs edge_kit.bench.interleave exactly as the parent used to and sends each record back over
a pipe as soon as it is known; the parent writes it to the store. A spawned (not forked) child starts
clean: no OpenMP pools or runtime state inherited from the conversions the parent just ran.

The runtimes' own chatter (LiteRT's "INFO: Created TensorFlow Lite XNNPACK delegate", Paddle's
warnings) went straight to the terminal and broke the progress line (and could reach stdout under
--json). The child's stdout and stderr go to a log file instead; when it crashes, the log's last words
are part of the failed cells' reason.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import sys

from converters.isolate import _last_words
from edge_kit.bench.interleave import measure_interleaved
from edge_kit.childproc import describe_exit, owned_tempdir

LOG_PREFIX = "edgekit-bench-"   # + pid + "-": the children's output, removed after each child


def _describe(exitcode: int | None) -> str:
    return "did not finish" if exitcode is None else describe_exit(exitcode)


class _PipeBar:
    def __init__(self, conn):
        self.conn = conn

    def update(self, message: str, advance: int = 0, force: bool = False) -> None:
        self.conn.send(("bar", message))


def _redirect_output(log: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)   # the file descriptors, so native libraries' output lands there too
    os.dup2(fd, 2)
    os.close(fd)


def _child(device, runnable, conn, cv_threshold: float, log: str | None = None) -> None:
    if log:
        _redirect_output(log)

    def record(cell, **kw):
        conn.send(("record", cell, kw))

    try:
        measure_interleaved(device, runnable, record, _PipeBar(conn), cv_threshold)
    except KeyboardInterrupt:
        pass
    finally:
        conn.close()


def _run_child(device, runnable, record, bar, cv_threshold: float):
    """One child over `runnable`; returns (exitcode, keys it reported, key of the cell it was loading,
    the last words of its output)."""
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    logdir = owned_tempdir(LOG_PREFIX)   # a killed bench leaves it to the next run's sweep
    log = logdir / "child.log"
    proc = ctx.Process(target=_child, args=(device, runnable, send, cv_threshold, str(log)), daemon=True)
    try:
        proc.start()
    except BaseException:
        shutil.rmtree(logdir, ignore_errors=True)
        raise
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
        try:
            words = _last_words(log.read_text(errors="replace")) if proc.exitcode else ""
        except OSError:
            words = ""
        shutil.rmtree(logdir, ignore_errors=True)
    return proc.exitcode, reported, loading, words


def measure_contained(device, runnable, record, bar, cv_threshold: float) -> None:
    """measure_interleaved(device, runnable, ...) in a child. If the child dies while loading a cell,
    that cell fails (saying how the runtime died) and the model's other cells are measured in a fresh
    child; if it dies while timing, every cell it had not reported fails."""
    pending = list(runnable)
    while pending:
        code, reported, loading, words = _run_child(device, pending, record, bar, cv_threshold)
        if code == 0:
            return
        how = _describe(code) + (f" ({words})" if words else "")
        left = [(c, a) for c, a in pending if c.key() not in reported]
        culprit = [(c, a) for c, a in left if c.key() == loading]
        for cell, art in (culprit or left):
            record(cell, artifact=art, reason=f"{cell.backend}: the runtime process {how} while "
                   f"{'loading' if culprit else 'measuring'} {art.path}; other models' cells are unaffected")
        pending = [x for x in left if x not in culprit] if culprit else []
