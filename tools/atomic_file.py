"""Writes a file as the project's files appear: under a temporary name in the same
directory, fsynced, world-readable, then renamed into place."""
import os
import tempfile
from pathlib import Path


def save_atomic(path, write):
    """Calls write(temporary_path) and renames the result to `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp" + path.suffix)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
