"""Compare initialization schemes on a built-in task or on your own model and
data (`own/`): runner, run store, statistics and report writer."""

from keras_rnninit.compare.folder import FolderComparison, compare_to_folder
from keras_rnninit.compare.records import RunRecord
from keras_rnninit.compare.report import write_report
from keras_rnninit.compare.runner import CompareConfig, compare
from keras_rnninit.compare.stacked import train_stacked
from keras_rnninit.compare.statistics import Claim
from keras_rnninit.compare.store import RunStore
from keras_rnninit.compare.training import train_fused, train_one

__all__ = [
    "Claim",
    "CompareConfig",
    "FolderComparison",
    "RunRecord",
    "RunStore",
    "compare",
    "compare_to_folder",
    "train_fused",
    "train_one",
    "train_stacked",
    "write_report",
]
