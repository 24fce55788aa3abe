"""One run per study folder: a lock file that names the process holding it.

Two runs writing the same study folder would mix their checkpoints. ``FolderLock`` creates
``<folder>/.lock`` atomically (written aside, then hard-linked into place, so it is never seen
half written) with the holder's process id, host, start time and command line. A second run
fails at once with :class:`FolderLocked`, which names that process. A lock left by a process that
no longer runs (killed with SIGKILL, or a crashed machine) is stale: it is taken over, with a
message saying so.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

LOCK_NAME = ".lock"


class FolderLocked(RuntimeError):
    """Another live process holds the folder's lock."""


def process_alive(pid: int) -> bool:
    """Whether a process with id ``pid`` runs on this machine (True when we may not signal it)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _describe(holder: dict[str, Any]) -> str:
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("started", 0)))
    return (f"process {holder.get('pid')} on {holder.get('host')} (started {started}: "
            f"{holder.get('command', '?')})")


class FolderLock:
    """``with FolderLock(folder):`` holds ``folder``'s lock; ``say`` reports a stale takeover."""

    def __init__(self, folder: Path, say: Any = print) -> None:
        self.path = Path(folder) / LOCK_NAME
        self.say = say
        self.held = False

    def _holder(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # unreadable: treated as stale below

    def acquire(self) -> None:
        """Take the lock, or raise FolderLocked naming the live process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(),
              "command": " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]])[:300]}
        staging = self.path.with_name(f"{LOCK_NAME}.{os.getpid()}.tmp")
        staging.write_text(json.dumps(me))
        try:
            for _ in range(3):
                try:
                    os.link(staging, self.path)
                    self.held = True
                    return
                except FileExistsError:
                    holder = self._holder()
                    if holder is None:
                        continue  # released meanwhile: try again
                    if holder and (holder.get("host") != me["host"] or process_alive(int(holder["pid"]))):
                        raise FolderLocked(
                            f"{self.path.parent} is in use by {_describe(holder)}. Two runs on one "
                            "study folder would mix their checkpoints: wait for that run to end, stop "
                            f"it, or use another --out. If that process is gone, delete {self.path}."
                        ) from None
                    what = _describe(holder) if holder else "an unreadable lock file"
                    self.say(f"   taking over the stale lock of {self.path.parent}: {what} is no "
                             "longer running")
                    self.path.unlink(missing_ok=True)
            raise FolderLocked(f"could not take the lock {self.path}: it keeps changing hands")
        finally:
            staging.unlink(missing_ok=True)

    def release(self) -> None:
        """Remove the lock file if this process holds it."""
        if self.held:
            holder = self._holder()
            if holder and holder.get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
