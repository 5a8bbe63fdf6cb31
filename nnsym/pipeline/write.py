"""Stage 7: write files atomically, and never over a file nnsym did not make."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from enum import Enum
from pathlib import Path

from nnsym.errors import NnsymError, UsageError, raise_if_terminated
from nnsym.pipeline.header import (
    MAX_HEADER_BYTES,
    body_hash,
    parse_header,
    split_header,
)


class Existing(Enum):
    """What is at the path we are about to write."""

    MISSING = "missing"
    GENERATED = "generated"  # an nnsym file, unchanged since it was generated
    EDITED = "edited"  # an nnsym file whose body no longer matches its hash
    FOREIGN = "foreign"  # any other file


def file_kind(mode: int) -> str:
    """What a stat mode is, in words: 'a directory', 'a named pipe (FIFO)', ..."""
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def check_regular_or_missing(path: Path, option: str = "--output") -> bool:
    """Raise UsageError unless `path` is a regular file or missing; True if it exists.

    A device, FIFO or socket is never read nor replaced, --force or not: reading
    /dev/zero never ends, opening a FIFO waits for a writer, and replacing
    /dev/null with a file would break the system.
    """
    try:
        mode = os.stat(path).st_mode  # follows a symbolic link to what it names
    except FileNotFoundError:
        if os.path.islink(path):
            raise UsageError(
                f"{option} {path} is a symbolic link to a missing file; "
                "give the real path"
            ) from None
        return False
    except NotADirectoryError:
        return False  # a parent is a file; the folder check says so
    except OSError as error:  # e.g. a file name too long for the file system
        raise UsageError(f"{option} {path}: {_reason(error)}") from error
    if stat.S_ISREG(mode):
        return True
    if stat.S_ISDIR(mode):
        raise UsageError(f"{option} {path} is a directory; give a file path")
    raise UsageError(
        f"{option} {path} is {file_kind(mode)}, not a regular file; nnsym reads "
        "and writes only regular files (--force does not change that)"
    )


def read_head(path: Path, size: int = MAX_HEADER_BYTES) -> bytes:
    """At most the first `size` bytes of a regular file (non-blocking open)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IsADirectoryError(f"{path} is not a regular file")
        return os.read(fd, size)
    finally:
        os.close(fd)


def inspect_existing(path: Path) -> Existing:
    """Classify the file at `path` by its nnsym header and recorded hash.

    Only the header's bytes are read unless the file has an nnsym header, so a
    large foreign file costs nothing; anything but a regular file is FOREIGN.
    """
    try:
        head = read_head(path)
    except (FileNotFoundError, NotADirectoryError):
        return Existing.MISSING
    except IsADirectoryError:
        return Existing.FOREIGN
    except OSError as error:
        raise NnsymError(
            f"cannot read {path} to check that nnsym generated it: {_reason(error)}"
        ) from error
    if parse_header(head.decode("utf-8", errors="replace")) is None:
        return Existing.FOREIGN
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return Existing.EDITED
    except OSError as error:
        raise NnsymError(
            f"cannot read {path} to check that nnsym generated it: {_reason(error)}"
        ) from error
    parts = split_header(text)
    if parts is None:
        return Existing.FOREIGN
    header, body = parts
    if header.recorded_hash == body_hash(body):
        return Existing.GENERATED
    return Existing.EDITED


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` (or bytes) to `path`: readers see the old file or the new.

    The data goes to a temporary file in the same directory, which is flushed to
    disk and then renamed over `path`. On any error, or KeyboardInterrupt, the
    temporary file is removed and `path` is left as it was. Only a process killed
    outright (SIGKILL, power loss) can leave a hidden `.NAME.*.tmp` file behind.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    if os.path.islink(path):
        # Write through a symbolic link, keeping it, rather than replace it.
        path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        # A SIGTERM whose exception was dropped still stops the file here.
        raise_if_terminated()
        os.replace(tmp_name, path)
    except BaseException:
        # Also on KeyboardInterrupt: leave no temporary file behind.
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    # Make the rename itself durable; not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


def _nearest_existing(directory: Path) -> Path:
    # The first of `directory` and its parents that exists (the cwd at worst).
    for candidate in (directory, *directory.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def check_folder(path: Path, option: str = "--output") -> None:
    """Raise unless `path`'s folder is, or can be made, a writable directory."""
    try:
        _check_folder(path, option)
    except OSError as error:  # e.g. a file name too long for the file system
        raise NnsymError(f"cannot write {path}: {_reason(error)}") from error


def _check_folder(path: Path, option: str) -> None:
    if path.is_dir():
        raise UsageError(f"{option} {path} is a directory; give a file path")
    folder = _nearest_existing(path.parent)
    if not folder.is_dir():
        raise UsageError(
            f"cannot write {path}: {folder} is a file, not a directory; "
            f"choose another {option}"
        )
    if not os.access(folder, os.W_OK | os.X_OK) or _read_only_mount(folder):
        raise NnsymError(
            f"cannot write {path}: the directory {folder} is not writable; "
            f"choose another {option}"
        )


def _read_only_mount(folder: Path) -> bool:
    # os.access says yes to root on a read-only file system; statvfs does not.
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def check_writable_target(
    path: Path,
    force: bool = False,
    option: str = "--output",
    inspect: Callable[[Path], Existing] | None = None,
) -> Existing:
    """Raise unless nnsym may write a generated file at `path`; return what is there.

    Checked up front, before any time is spent on generation: `path` is a regular
    file or missing (never a directory, device or FIFO), its folder is (or can be
    made) a writable directory, and a file already there was generated by nnsym
    and not edited since (unless `force`); `inspect` tells (default: by the
    header of a text file).
    """
    check_folder(path, option)
    check_regular_or_missing(path, option)
    existing = (inspect or inspect_existing)(path)
    if existing is Existing.FOREIGN and not force:
        raise NnsymError(
            f"{path} exists and was not generated by nnsym; "
            f"choose another {option} or pass --force to overwrite it"
        )
    if existing is Existing.EDITED and not force:
        raise NnsymError(
            f"{path} was generated by nnsym but has been edited since; "
            "pass --force to overwrite your edits, or move the file"
        )
    return existing


def write_generated(
    path: Path, text: str, force: bool = False, option: str = "--output"
) -> bool:
    """Write a generated file atomically; return False if it was already identical."""
    existing = check_writable_target(path, force, option)
    data = text.encode("utf-8")
    try:
        # Only an unedited nnsym file is read whole, and only if the size matches.
        if (
            existing is Existing.GENERATED
            and os.path.getsize(path) == len(data)
            and path.read_bytes() == data
        ):
            return False
    except OSError:
        pass
    try:
        write_atomic(path, text)
    except OSError as error:
        raise NnsymError(
            f"cannot write {path}: {_reason(error)}; nothing was changed"
        ) from error
    return True
