"""A one-line progress indicator on stderr (no dependencies): redrawn in place on a terminal,
plain occasional lines when stderr is a file or pipe (CI logs)."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, enabled: bool = True, stream=None):
        self.total, self.done, self.enabled = total, 0, enabled
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = 0.0
        self._start = time.monotonic()

    def _bar(self) -> str:
        width = 20
        filled = int(width * self.done / self.total) if self.total else width
        return "[" + "#" * filled + "." * (width - filled) + f"] {self.done}/{self.total}"

    def update(self, message: str, advance: int = 0, force: bool = False) -> None:
        self.done += advance
        if not self.enabled:
            return
        now = time.monotonic()
        line = f"{self._bar()} {int(now - self._start)}s {message}"
        if self.tty:
            self.stream.write("\r" + line[:150].ljust(150))
            self.stream.flush()
        elif force or advance or now - self._last > 10:
            self.stream.write(line + "\n")
            self.stream.flush()
        self._last = now

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
