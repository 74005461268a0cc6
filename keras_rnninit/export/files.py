"""Files written the way a normal write does: the user's umask, all or nothing.

`tempfile.mkstemp` / `mkdtemp` create `0600` / `0700` entries; a finished file
moved into place from there would keep those bits. `write_temp` and `temp_dir`
give them the mode a plain `open()` / `os.mkdir()` would (`0644` / `0755` under
umask 022). `publish` moves several finished temp files into place so that
either all of them land or none does.
"""

import os
import shutil
import tempfile

__all__ = ["default_mode", "publish", "temp_dir", "write_temp"]


def _umask():
    try:  # Linux: read it without changing it (os.umask is process-wide)
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_mode(directory=False):
    """The mode a new file (or folder) gets from `open()` (`os.mkdir()`)."""
    return (0o777 if directory else 0o666) & ~_umask()


def write_temp(folder, final, content, temps):
    """Write `content` to a hidden temp file next to `final`; record it in `temps`."""
    handle, tmp = tempfile.mkstemp(
        dir=folder, prefix=f".{os.path.basename(final)}.", suffix=".tmp"
    )
    temps.append(tmp)
    with os.fdopen(handle, "wb") as file:
        file.write(content)
    os.chmod(tmp, default_mode())
    return tmp


def temp_dir(final):
    """A hidden temp folder next to `final`, with a normal folder's mode."""
    tmp = tempfile.mkdtemp(
        prefix=f".{os.path.basename(final)}.", dir=os.path.dirname(final)
    )
    os.chmod(tmp, default_mode(directory=True))
    return tmp


def publish(moves):
    """Move each `(tmp, final)` of `moves` into place: all of them, or none.

    An existing `final` is kept as a hard link until every move succeeded, so a
    failure halfway restores it (and removes what was moved so far).
    """
    done = []  # (final, backup or None)
    try:
        for tmp, final in moves:
            backup = None
            if os.path.isfile(final):
                backup = f"{tmp}.old"
                try:
                    os.link(final, backup)
                except OSError:  # no hard links here: a copy does the same job
                    shutil.copy2(final, backup)
            done.append((final, backup))
            os.replace(tmp, final)
    except BaseException:
        for final, backup in reversed(done):
            if backup is not None:
                os.replace(backup, final)
            elif os.path.isfile(final):
                os.remove(final)
        raise
    for _, backup in done:
        if backup is not None:
            os.remove(backup)
