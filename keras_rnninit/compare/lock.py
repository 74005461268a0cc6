"""An OS lock on a comparison's folder, so two jobs never share one.

The lock is `fcntl.flock` on `<out>.lock`, a file next to the folder that
holds the pid of its owner. The OS releases it when the owner exits, however
it exits (even SIGKILL), so a stale file never blocks anyone: only a live
process can hold the lock. The owner deletes the file when it is done.
"""

import fcntl
import os

__all__ = ["FolderLock"]


class FolderLock:
    """Hold `path` locked until `release()` (or the end of the process).

    Raises `FileExistsError` naming the owner's pid if another process holds
    it, and `PermissionError` if the lock file cannot be created.
    """

    def __init__(self, path, what):
        self.path = path
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as error:
                raise PermissionError(
                    f"`out` must be in a writable folder. Received: out={what!r} "
                    f"({error.strerror})"
                ) from error
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise FileExistsError(
                    f"`out` is in use by a running comparison (pid {owner}), which "
                    f"holds {path}; wait for it or choose another --out. "
                    f"Received: out={what!r}"
                ) from None
            # The owner before us may have deleted the file between our open
            # and our lock: then we hold a lock on a file nobody else sees.
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self):
        """Delete the lock file and unlock it (a no-op the second time)."""
        if self._fd is None:
            return
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
        os.close(self._fd)
        self._fd = None
