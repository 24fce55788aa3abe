"""The wall time of a study over all its attempts, including ones killed without warning.

Each execution of a study is an attempt. While it runs, a background thread writes how long it
has been running into ``<checkpoints>/wall_time/<attempt>.json`` every ``every`` seconds, beside
the checkpoints it resumes from; an attempt that ends by an exception (Ctrl-C, SIGTERM, a bug)
writes its exact time as it goes. So after a SIGKILL the time of the killed attempt is known to
within ``every`` seconds, and the finished study reports the sum of all its attempts.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path

from experiments.harness.files import read_json, write_json

_ATTEMPTS = itertools.count()


class WallClock:
    """``earlier()`` seconds of earlier attempts; ``start()``, then ``stop()`` returns this one's."""

    def __init__(self, folder: Path, every: float = 2.0) -> None:
        self.folder = Path(folder)
        self.every = every
        # unique per attempt, even for two attempts in one process within a second
        self.path = self.folder / f"{time.time_ns()}-{os.getpid()}-{next(_ATTEMPTS)}.json"
        self._started = 0.0
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def earlier(self) -> float:
        """The seconds recorded by earlier attempts (unreadable records count as zero)."""
        total = 0.0
        for path in sorted(self.folder.glob("*.json")) if self.folder.exists() else []:
            if path != self.path:
                try:
                    total += float(read_json(path)["seconds"])
                except (OSError, ValueError, KeyError, TypeError):
                    pass
        return total

    def elapsed(self) -> float:
        """Seconds since ``start``."""
        return time.monotonic() - self._started

    def _write(self) -> None:
        # not fsynced: a heartbeat every few seconds, and a lost one costs seconds of the total
        write_json(self.path, {"pid": os.getpid(), "seconds": round(self.elapsed(), 3)}, durable=False)

    def _beat(self) -> None:
        while not self._done.wait(self.every):
            try:
                self._write()
            except OSError:  # a full or read-only disk must not stop the study; the time is extra
                pass

    def start(self) -> None:
        """Begin this attempt: write its first record and start the heartbeat."""
        self._started = time.monotonic()
        self._write()
        self._thread = threading.Thread(target=self._beat, name="wall-clock", daemon=True)
        self._thread.start()

    def stop(self, keep: bool) -> float:
        """End this attempt: record its time when ``keep`` (an interrupted attempt), else remove
        every record (the study finished and reports the total). Returns this attempt's seconds."""
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        seconds = self.elapsed()
        if keep:
            self._write()
        else:
            for path in self.folder.glob("*.json") if self.folder.exists() else []:
                path.unlink(missing_ok=True)
        return seconds
