"""The loader: study files (Single Cell Portal, 10x Cell Ranger, AnnData) into the engine's `raw` tables.

Everything a caller needs — the CLI, the benchmark, the tests — is exported here; the modules behind these
names are the loader's own arrangement:
- `loader.study`: find a study's files and open it (`detect_study`, `open_source`, `check_study`);
- `loader.formats`: one reader per source format (MatrixMarket text layouts, .h5ad, Cell Ranger .h5);
- `loader.load`: one load (`load_dataset`), published by the protocol of `loader.publish`;
- `loader.datasets`: what readers see, and dropping a dataset (`list_datasets`, `drop_dataset`).
"""

from __future__ import annotations

from genostream import __version__
from loader.datasets import drop_dataset, list_datasets
from loader.errors import (
    DatasetNameError,
    DetectError,
    InputError,
    LoadConflictError,
    LoaderError,
    LoadInterruptedError,
    StoreWriteError,
    UnknownDatasetError,
)
from loader.features import Genes, read_barcodes
from loader.formats.hdf5 import Hdf5File
from loader.formats.mtx import MatrixReader, MtxHeader, read_header
from loader.formats.text import Study, StudyFiles
from loader.load import LoadResult, dataset_name, load_dataset
from loader.schema import ensure_raw_schema
from loader.source import StudySource
from loader.study import check_study, detect_study, open_source, open_study

__all__ = [
    "DatasetNameError",
    "DetectError",
    "Genes",
    "Hdf5File",
    "InputError",
    "LoadConflictError",
    "LoadInterruptedError",
    "LoadResult",
    "LoaderError",
    "MatrixReader",
    "MtxHeader",
    "StoreWriteError",
    "Study",
    "StudyFiles",
    "StudySource",
    "UnknownDatasetError",
    "__version__",
    "check_study",
    "dataset_name",
    "detect_study",
    "drop_dataset",
    "ensure_raw_schema",
    "list_datasets",
    "load_dataset",
    "open_source",
    "open_study",
    "read_barcodes",
    "read_header",
]
