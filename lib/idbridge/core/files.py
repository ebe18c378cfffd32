"""Writing files so that a reader never sees half of one: beside, then renamed into place.

Every artifact of a run (findings, run.json, index, notebooks, reports, workbooks, tables, the snapshot's
manifest) is written through here. A write that fails — disk full, quota, read-only or failing disk — removes
what it had written and raises OSError naming the file meant; `storage_error` tells such a failure from others,
and the CLI turns it into exit 3 with one line (it is not "findings", exit 1).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The write failed because of where it was written, not because of what: nothing the run found.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG})


def storage_error(exc: BaseException | None) -> OSError | None:
    """The OSError behind `exc` (itself, or what it was raised from) when it is a storage failure, else None.
    Some libraries (pyarrow) give no errno, only the system's words: those count too."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError):
            if exc.errno in STORAGE_ERRNOS:
                return exc
            if exc.errno is None and any(os.strerror(n) in str(exc) for n in STORAGE_ERRNOS):
                return exc
        exc = exc.__cause__ or exc.__context__
    return None


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


def _fsync(path: Path) -> None:
    """Make the bytes reach the disk before the rename: a filesystem that allocates late reports a full disk
    here, not after the file is already in place."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def naming(exc: OSError, path: str | Path) -> OSError:
    """The same error, naming the file that was meant rather than its temporary twin."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path)) if exc.errno is not None else exc


def replace_into(partial: str | Path, path: str | Path) -> Path:
    """Put a finished temporary file in place of `path` (synced, then renamed); OSError names `path`."""
    partial, path = Path(partial), Path(path)
    try:
        _fsync(partial)
        os.replace(partial, path)
    except OSError as exc:
        raise naming(exc, path) from exc
    return path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path` for a writer that wants a file name (papermill, openpyxl, pyarrow): renamed
    over `path` when the block ends without error, removed when it fails — never a half file at `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = _partial(path)
    try:
        try:
            yield partial
        except OSError as exc:
            raise naming(exc, path) from exc
        replace_into(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write `data` to a temporary file beside `path`, then rename it over `path` (atomic on one filesystem): an
    interrupted write (disk full, killed run) leaves the previous file or none, never a truncated one."""
    path = Path(path)
    with atomic_path(path) as partial:
        with open(partial, "wb") as handle:
            handle.write(data)
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """write_bytes_atomic of the text in UTF-8."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def copy_atomic(source: str | Path, target: str | Path) -> Path:
    return write_bytes_atomic(target, Path(source).read_bytes())


def make_exclusive_dir(base: str | Path) -> Path:
    """Create `base`, or `base-2`, `base-3`, … whichever is free first, and return it. mkdir without exist_ok is
    the test and the claim in one step: two processes asking for the same name in the same second get two
    folders, never one shared."""
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    candidate, n = base, 1
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")
