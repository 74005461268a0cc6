"""Shared argument parsing of the example scripts: --quick and --out."""

import argparse
import os


def parse_args(doc):
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run for smoke tests")
    parser.add_argument(
        "--out",
        default=os.path.join("runs", "examples"),
        help="output folder (default: runs/examples)",
    )
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    return args
