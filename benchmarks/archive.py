"""Committed comparison reports, kept small.

A comparison's report.json holds every run's diagnostics at every
evaluation (up to 10 MB for 30 runs of 10,000 steps); xz shrinks it five- to
tenfold. So a report under benchmarks/results/ is committed as
`report.json.xz` beside `report.md` and `survival.png`, and its other plots
are drawn again from it on demand (`make docs`, or
`.venv/bin/python benchmarks/archive.py --plots`), not committed: until
then a report.md in a fresh clone shows those images as missing. A
survival.png is committed only where a page shows it (`git add -f`).

A finished sweep's records (`records.jsonl`, one JSON line per run, with
curves) can be archived the same way: `--records FOLDER` appends its
records.jsonl to records.jsonl.xz (the same lines, xz -9) and removes it.
The sweep scripts read the archive first and then any lines appended since
(length_sweep.load), so a sweep resumes over an archived folder.
"""

import argparse
import glob
import json
import lzma
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
NAME = "report.json.xz"


def compress(folder):
    """Replace `folder`/report.json by report.json.xz (the same bytes, xz -9)."""
    source = os.path.join(folder, "report.json")
    with open(source, "rb") as file:
        data = file.read()
    target = os.path.join(folder, NAME)
    with lzma.open(target + ".tmp", "wb", preset=9 | lzma.PRESET_EXTREME) as file:
        file.write(data)
    os.replace(target + ".tmp", target)
    os.remove(source)
    return target


RECORDS = "records.jsonl"


def archive_records(folder):
    """Append `folder`/records.jsonl to records.jsonl.xz and remove it."""
    source = os.path.join(folder, RECORDS)
    target = source + ".xz"
    data = b""
    if os.path.exists(target):
        with lzma.open(target, "rb") as file:
            data = file.read()
    with open(source, "rb") as file:
        data += file.read()
    with lzma.open(target + ".tmp", "wb", preset=9 | lzma.PRESET_EXTREME) as file:
        file.write(data)
    os.replace(target + ".tmp", target)
    os.remove(source)
    return target


def load(folder):
    """The report of `folder`: report.json.xz, or report.json if not yet compressed."""
    path = os.path.join(folder, NAME)
    if os.path.exists(path):
        with lzma.open(path, "rt", encoding="utf-8") as file:
            return json.load(file)
    with open(os.path.join(folder, "report.json"), encoding="utf-8") as file:
        return json.load(file)


def folders():
    """The folders under benchmarks/results/ that hold a compressed report."""
    return sorted(
        os.path.dirname(p) for p in glob.glob(os.path.join(RESULTS, "*", NAME))
    )


def draw_plots(folder, dpi=110):
    """Draw `folder`'s plots again from its compressed report."""
    from keras_rnninit.compare.plots import write_plots

    write_plots(load(folder)["records"], folder, dpi=dpi)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--plots", action="store_true", help="draw every report's plots again"
    )
    parser.add_argument("--compress", metavar="FOLDER", nargs="+", default=[])
    parser.add_argument(
        "--records",
        metavar="FOLDER",
        nargs="+",
        default=[],
        help="archive each FOLDER's records.jsonl into records.jsonl.xz",
    )
    args = parser.parse_args(argv)
    for folder in args.compress:
        print(compress(folder))
    for folder in args.records:
        print(archive_records(folder))
    for folder in folders() if args.plots else []:
        draw_plots(folder)
        print(f"plots of {os.path.relpath(folder, HERE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
