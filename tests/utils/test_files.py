"""keras_rnninit/utils/files.py: the one way the package writes files."""

import json
import os
import stat

import pytest

from keras_rnninit.utils import files as _files
from keras_rnninit.utils.files import (
    OutputExists,
    atomic_write,
    check_overwrite,
    replace_folder,
    write_json,
    write_temp,
)


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_write_lands_whole_with_the_umask(tmp_path, umask_027):
    path = tmp_path / "out.bin"

    def write(target):
        with open(target, "wb") as file:
            file.write(b"abc")

    assert atomic_write(str(path), write) == str(path)
    assert path.read_bytes() == b"abc" and mode(path) == 0o640
    assert os.listdir(tmp_path) == ["out.bin"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")

    def half(target):
        with open(target, "w") as file:
            file.write("half")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(str(path), half, temporary=str(tmp_path / "x.tmp.keras"))
    assert path.read_text() == "old" and sorted(os.listdir(tmp_path)) == ["out.json"]
    # NaN is no JSON: refused, and nothing is left behind either.
    with pytest.raises(ValueError):
        write_json(str(path), {"loss": float("nan")})
    assert path.read_text() == "old" and sorted(os.listdir(tmp_path)) == ["out.json"]
    write_json(str(path), {"loss": 0.5})
    assert json.loads(path.read_text()) == {"loss": 0.5}


def test_write_temp_has_a_normal_files_mode(tmp_path, umask_027):
    temps = []
    tmp = write_temp(str(tmp_path), str(tmp_path / "m.tflite"), b"x", temps)
    assert temps == [tmp] and os.path.basename(tmp).startswith(".m.tflite.")
    assert mode(tmp) == 0o640 == _files.default_mode()  # not mkstemp's 0600


def test_replace_folder(tmp_path):
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "a").write_text("new")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "stale").write_text("old")
    replace_folder(str(tmp_path / "new"), str(tmp_path / "out"))
    assert os.listdir(tmp_path / "out") == ["a"] and not (tmp_path / "new").exists()


def test_the_library_says_its_argument_and_the_command_line_its_flag(tmp_path):
    path = tmp_path / "report"
    check_overwrite(str(path), overwrite=False)  # nothing there: fine
    os.symlink(tmp_path / "missing", path)  # a dangling link is there too
    with pytest.raises(OutputExists) as caught:
        check_overwrite(str(path), overwrite=False)
    assert str(caught.value) == f"{path} exists; pass overwrite=True to replace it."
    assert caught.value.cli_message() == f"{path} exists; pass --force to replace it."
    assert isinstance(caught.value, FileExistsError)
    check_overwrite(str(path), overwrite=True)
    with pytest.raises(OutputExists, match=r"pass force=True to replace it\.$"):
        check_overwrite(str(path), False, "force")


def test_an_interrupted_comparison_names_resume_and_force(tmp_path):
    from keras_rnninit.compare import CompareConfig, RunStore

    config = CompareConfig(length=6, units=4, steps=100)
    os.makedirs(tmp_path / "cmp.partial")
    with pytest.raises(OutputExists) as caught:
        RunStore(str(tmp_path / "cmp"), config)
    assert str(caught.value).endswith(
        "pass resume=True to continue it or force=True to start over."
    )
    assert caught.value.cli_message().endswith(
        "pass --resume to continue it or --force to start over."
    )
