"""Every input file the program reads, read one way: a regular file, within a size limit, quickly.

Scenario files, targets files, parameter sets and market files all come through
:func:`read_input`.  A path that is not a regular file (a folder, a named pipe that would hang the
read, a device such as ``/dev/zero`` that would fill memory, a socket) is refused before a byte is
read, and so is a file larger than its limit; the message names the file, what it is and what is
allowed, never the file's contents.  Reading a regular file of a few megabytes takes milliseconds,
so the size limit is also the time limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

#: The largest input file of each kind, in bytes: scenario and market files are a few kilobytes,
#: targets files tens, a parameter-sets file of 100 sets about 30 kB.
LIMITS = {"scenario file": 200_000, "market file": 200_000, "targets file": 1_000_000,
          "parameter sets file": 5_000_000, "benchmark figures file": 1_000_000}


class InputFileError(ValueError):
    """An input file that cannot be read: the message says which file, why, and what is allowed."""


def read_input(path: str | Path, kind: str) -> bytes:
    """The bytes of the regular file ``path`` (an input of ``kind``, a key of :data:`LIMITS`)."""
    limit = LIMITS[kind]
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such {kind}") from None
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{path}: the {kind} cannot be opened ({_reason(exc)})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(f"{path}: not a regular file ({_what(info.st_mode)}); allowed: a {kind}, a plain "
                                 "file on disk")
        if info.st_size > limit:
            raise InputFileError(f"{path}: too large for a {kind} ({info.st_size:,} bytes; at most {limit:,})")
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:  # grew while being read
                raise InputFileError(f"{path}: too large for a {kind} (over {limit:,} bytes)")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise InputFileError(f"{path}: the {kind} cannot be read ({_reason(exc)})") from None
    finally:
        os.close(fd)


def read_input_text(path: str | Path, kind: str) -> str:
    """The text of an input file in UTF-8 (a leading byte order mark dropped)."""
    data = read_input(path, kind)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputFileError(f"{path}: line {line}: not UTF-8 text ({exc.reason}); allowed: a {kind} in UTF-8") \
            from None


def _what(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a plain file"


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__
