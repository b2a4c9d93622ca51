"""Processes sharing one index directory: one build at a time, one corpus update at a time, and
the versions that running processes read, which a build never removes under them.

Seen before these locks: two `assistant ask` started two seconds apart on an empty index both
built the whole index (240 s each), the second publication removed the first one's version, and
neither could answer; an `assistant eval` died when a build published during its run.
"""

from __future__ import annotations

import os
import sys
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import filelock

from assistant.errors import IndexUnavailable

BUILD_WAIT = 1800.0  # seconds: a full build takes about 2 minutes; a holder stuck longer is not waited for



class IndexBusy(IndexUnavailable):
    """Another process holds the lock and the caller cannot wait."""


def _lock(path: Path) -> filelock.FileLock:
    """One lock object per file in a process (filelock's singleton): it counts re-entries (a build
    that publishes takes the build lock twice), where a second object's flock would block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return filelock.FileLock(path.resolve(), thread_local=False, is_singleton=True)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@contextmanager
def exclusive_build(index_dir: Path, notify: Callable[[str], None] = say) -> Iterator[None]:
    """Hold the build lock of `index_dir`; if another process builds, say so and wait for it."""
    lock = _lock(index_dir / "build.lock")
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        notify("Un autre processus construit déjà l'index : j'attends qu'il ait fini, puis j'utilise "
               "son résultat…")
        try:
            lock.acquire(timeout=BUILD_WAIT)
        except filelock.Timeout:
            raise IndexBusy(f"l'index de {index_dir} est en construction par un autre processus depuis plus de "
                            f"{BUILD_WAIT / 60:.0f} minutes : vérifiez ce processus, puis relancez.") from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def exclusive_update(index_dir: Path) -> Iterator[None]:
    """Hold the corpus-update lock; a second update is refused at once (its evaluation would run
    against an index that the first one is about to replace)."""
    lock = _lock(index_dir / "update.lock")
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise IndexBusy("une autre mise à jour du corpus est en cours sur cet index : attendez qu'elle se "
                        "termine, puis relancez « assistant corpus update ».") from None
    try:
        yield
    finally:
        lock.release()


# -- readers --------------------------------------------------------------------------------

def register_reader(index_dir: Path, version: str, owner: object) -> None:
    """Mark `version` as read by this process while `owner` (a LiveIndex) lives."""
    folder = index_dir / "readers"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        mark = folder / f"{version}.{os.getpid()}.{id(owner)}"
        mark.write_text(str(index_dir.resolve()), encoding="utf-8")  # a copied folder is another index
    except OSError:  # a read-only index folder: reading still works, only the protection is lost
        return
    weakref.finalize(owner, _unlink, mark)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def versions_in_use(index_dir: Path) -> set[str]:
    """Versions read by processes still running on this machine; marks of dead ones are removed."""
    folder = index_dir / "readers"
    if not folder.is_dir():
        return set()
    used = set()
    for mark in folder.iterdir():
        version, _, rest = mark.name.partition(".")
        pid = rest.split(".")[0]
        if pid.isdigit() and _alive(int(pid)) and _marks(mark, index_dir):
            used.add(version)
        else:
            _unlink(mark)
    return used


def _marks(mark: Path, index_dir: Path) -> bool:
    """The mark was written for this folder (not carried over by a copy of another index)."""
    try:
        return mark.read_text(encoding="utf-8") == str(index_dir.resolve())
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True
