"""Files written the way a normal write does: the user's umask, all or nothing.

The one home of how this package writes files (standard library only, so
every layer can use it):

- `atomic_write(path, write)`: write under a temporary name in the same
  folder, sync to disk, rename into place, so neither a kill nor a power cut
  leaves a truncated file under the final name.
- `write_temp`, `temp_dir`: `tempfile.mkstemp` / `mkdtemp` create `0600` /
  `0700` entries, and a finished file moved into place from there would keep
  those bits; these give the mode a plain `open()` / `os.mkdir()` would
  (`0644` / `0755` under umask 022).
- `publish` moves several finished temp files into place so that either all
  of them land or none does; `replace_folder` moves a finished folder in.
- `check_overwrite` / `OutputExists`: the library refuses to replace an
  output unless its caller passed `overwrite=True` (or the function's own
  flag); the command line words the same error with `--force`.
"""

import json
import os
import shutil
import tempfile

__all__ = [
    "OutputExists",
    "ResumeMismatch",
    "atomic_write",
    "check_overwrite",
    "default_mode",
    "publish",
    "replace_folder",
    "temp_dir",
    "write_json",
    "write_temp",
]

# The command-line flag of each library argument that allows a replacement.
FLAGS = {"overwrite": "--force", "force": "--force", "resume": "--resume"}


class _Worded:
    """An error whose `template` names the caller's arguments as
    `{overwrite}`, `{force}` or `{resume}`: `str(error)` spells them as the
    library's arguments ("pass overwrite=True"), `cli_message()` as the
    command line's flags ("pass --force")."""

    def _word(self, template, **fields):
        self.template, self.fields = template, fields
        return self._message(lambda name: f"{name}=True")

    def _message(self, spell):
        return self.template.format(**self.fields, **{n: spell(n) for n in FLAGS})

    def cli_message(self):
        return self._message(FLAGS.get)


class OutputExists(_Worded, FileExistsError):
    """An output that exists, and the arguments that would replace it."""

    def __init__(self, path, template="{path} exists; pass {overwrite} to replace it."):
        self.path = path
        super().__init__(self._word(template, path=path))


class ResumeMismatch(_Worded, ValueError):
    """A resumed run whose settings differ from the interrupted one's."""

    def __init__(self, template, **fields):
        super().__init__(self._word(template, **fields))


def check_overwrite(path, overwrite, option="overwrite"):
    """Raise `OutputExists` if `path` exists (a dangling link too) and not
    `overwrite`; `option` is the caller's name for that argument."""
    if os.path.lexists(path) and not overwrite:
        raise OutputExists(path, f"{{path}} exists; pass {{{option}}} to replace it.")


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


def _sync(path):
    with open(path, "rb") as file:
        os.fsync(file.fileno())


def atomic_write(path, write, temporary=None):
    """Create `path` by `write(temporary)`, synced to disk and renamed into place.

    `temporary` defaults to `<path>.tmp`; give one when readers must recognise
    it (a run store's `*.tmp`, a model's `*.tmp.keras`). On failure the
    temporary is removed and `path` is untouched. The file gets the mode
    `write` gave it (`open()`: the user's umask). Returns `path`.
    """
    temporary = temporary or f"{path}.tmp"
    try:
        write(temporary)
        _sync(temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.lexists(temporary):
            os.remove(temporary)
        raise
    return path


def write_json(path, value, **options):
    """`json.dump(value)` to `path` through `atomic_write`; NaN and Inf refused."""

    def dump(target):
        with open(target, "w", encoding="utf-8") as file:
            json.dump(value, file, allow_nan=False, **options)

    return atomic_write(path, dump)


def write_temp(folder, final, content, temps):
    """Write `content` to a hidden temp file next to `final` (synced to disk,
    a normal file's mode); record it in `temps`."""
    handle, tmp = tempfile.mkstemp(
        dir=folder, prefix=f".{os.path.basename(final)}.", suffix=".tmp"
    )
    temps.append(tmp)
    with os.fdopen(handle, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
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


def replace_folder(tmp, out):
    """Move the finished folder `tmp` to `out`, replacing an old one."""
    if os.path.exists(out):
        shutil.rmtree(out)
    os.replace(tmp, out)
