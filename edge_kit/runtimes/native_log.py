"""Keep a runtime's known native log lines off edgekit's stderr.

LiteRT prints "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." from C++ straight to file
descriptor 2 when an interpreter is made; in `edgekit convert` it landed between the stage lines. No
setting turns it off, so while a runtime loads, fd 2 goes to a temp file; afterwards every line but the
known chatter is written back (a real error message is kept, only delayed). One load at a time holds the
redirection (a lock), because two threads swapping fd 2 at once would lose it for good.
"""
from __future__ import annotations

import os
import sys
import tempfile
import threading
from contextlib import contextmanager

_LOCK = threading.Lock()


@contextmanager
def drop_native_lines(*known: str):
    """Lines starting with one of `known` written to fd 2 inside the block are dropped; others kept."""
    with _LOCK:
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
                tmp.seek(0)
                kept = [ln for ln in tmp.read().decode("utf-8", "replace").splitlines(keepends=True)
                        if not ln.startswith(known)]
                if kept:
                    sys.stderr.write("".join(kept))
                    sys.stderr.flush()
