"""Writing output files whole or not at all, and checking before a run that they can be written.

A run that is stopped (Ctrl-C, the machine shutting down, a full disc) while it writes its
results must not leave half a file under the name a planner will open, nor a file that makes
the next run refuse to start ("already exists").  So every output is first written under a
temporary name in the same folder (``.NAME.tmp-PID``, hidden, so it never looks like a
result) and moved into place with :func:`os.replace`, which on one file system is all or
nothing.  A set of files (the ``--csv`` tables) is written to temporary names first and only
renamed once all of them are complete (with Ctrl-C and SIGTERM held back for the moment the
renames take); if writing any of them fails, none is renamed and the temporary files are
removed.

A target that exists and is not a regular file (``/dev/null``, ``/dev/stdout``, a named pipe)
cannot be replaced, so it is written directly; an error writing it (``/dev/full``: no space
left on the device) still names the file.

:func:`output_problem` says, before a run starts, why a file could not be written there (a
missing or unwritable folder, a folder where a file should be), so that a long run is not
lost at the end.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

Writer = Callable[[Path], None]  # writes the content to the path it is given


#: The longest file name most file systems allow, in bytes.
NAME_MAX = 255


def _temporary(path: Path) -> Path:
    """A hidden temporary name beside ``path``: ``.NAME.tmp-PID``, or a short one where that would be too
    long a name for the file system."""
    name = f".{path.name}.tmp-{os.getpid()}"
    if len(name.encode("utf-8", "surrogateescape")) > NAME_MAX:
        name = f".tmp-{os.getpid()}-{abs(hash(path.name)) % 10 ** 12}"
    return path.with_name(name)


def _through_links(path: Path) -> Path:
    """Where writing ``path`` should land: a symbolic link is written through to the file it names (as
    a shell's ``>`` does), so the link itself is kept."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _is_special(path: Path) -> bool:
    """An existing target that is not a regular file (a device or a pipe): written in place."""
    return path.exists() and not path.is_file() and not path.is_dir()


def _named(exc: OSError, path: Path) -> OSError:
    """The error, naming ``path`` (a failed write on an open file has no file name)."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path))


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all."""
    write_files({Path(path): lambda p: p.write_text(text, encoding="utf-8")})


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all."""
    write_files({Path(path): lambda p: p.write_bytes(data)})


def write_files(files: Mapping[str | Path, Writer]) -> None:
    """Write a set of files, each by its writer, so that all appear complete or none changes.

    Each writer is called with the path to write (a temporary name beside the target); when
    every writer has succeeded, the files are moved into place.  Raises the ``OSError`` of
    the first failure, naming the file it concerns; any temporary file is removed, whatever
    stops the writing (an error, or an interrupt).
    """
    targets = {_through_links(Path(p)): w for p, w in files.items()}
    staged: dict[Path, Path] = {}  # temporary -> target
    try:
        for target, writer in targets.items():
            if _is_special(target):
                continue
            temporary = _temporary(target)
            staged[temporary] = target
            try:
                writer(temporary)
            except OSError as exc:
                raise _named(exc, target) from None
        for target, writer in targets.items():  # devices and pipes: written in place, after the others are ready
            if _is_special(target):
                try:
                    writer(target)
                except OSError as exc:
                    raise _named(exc, target) from None
        with _signals_held():  # Ctrl-C between two renames would leave a set half replaced
            for temporary, target in staged.items():
                try:
                    os.replace(temporary, target)
                except OSError as exc:
                    raise _named(exc, target) from None
    finally:
        for temporary in staged:
            with contextlib.suppress(OSError):  # a failure here must not hide the error that got us here
                temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back for a moment (they arrive when it ends), where the system allows."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def output_problem(path: str | Path, option: str, folder: bool = False) -> str | None:
    """Why ``path`` could not be written (``folder``: why files could not be written into it), or
    None.  Checked before a run starts; ``option`` names what gave the path (``--json``)."""
    text = str(path)
    if not text.strip():
        return f"{option}: an empty path; give a {'folder' if folder else 'file'} name"
    if "\0" in text:
        return f"{option} {text!r}: a path cannot contain a NUL character"
    path = Path(path)
    try:
        if len(path.name.encode("utf-8", "surrogateescape")) > NAME_MAX:
            return (f"{option} {text[:60]}...: the file name is too long (over {NAME_MAX} bytes, more than a file "
                    "system allows)")
        path = _through_links(path)
        if folder:
            if path.exists() and not path.is_dir():
                return f"{option} {path}: is a file, not a folder; give a folder for the tables"
            existing = next((p for p in [path, *path.parents] if p.exists()), Path("."))
            if not existing.is_dir():
                return f"{option} {path}: {existing} is a file, so no folder can be made under it"
            if not os.access(existing, os.W_OK | os.X_OK):
                return f"{option} {path}: cannot write in {existing} (permission denied)"
            return None
        if path.is_dir():
            return f"{option} {path}: is a folder; give a file name (e.g. {path / 'results.json'})"
        if _is_special(path):
            return None if os.access(path, os.W_OK) else f"{option} {path}: cannot be written (permission denied)"
        parent = path.parent
        if not parent.exists():
            return f"{option} {path}: the folder {parent} does not exist; create it first or choose another path"
        if not parent.is_dir():
            return f"{option} {path}: {parent} is a file, not a folder"
        if not os.access(parent, os.W_OK | os.X_OK):
            return f"{option} {path}: cannot write in the folder {parent} (permission denied)"
    except OSError as exc:  # a name too long for the file system, a loop of links
        return f"{option} {text}: {exc.strerror or exc}"
    return None
