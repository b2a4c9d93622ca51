"""Files written whole or not at all: a temporary file in the same folder, then a rename.

Kept by hand (12 lines): no maintained, pinned library for it is installed here, and the
standard library has the two calls it needs (mkstemp, os.replace).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(target: Path, content: str) -> None:
    """Write to a temporary file, then rename: a crash never leaves half a corpus file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
        # mkstemp makes the file private (0600); a corpus or eval file is as readable as the others.
        os.chmod(temporary, target.stat().st_mode & 0o777 if target.exists() else 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
