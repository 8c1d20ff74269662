"""Where the repository and its test studies are (tests/data/README.md says where each study comes from)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEST_DATA = REPO / "tests" / "data"
PBMC_DIR = TEST_DATA / "pbmc68k_scp"
TENX_DIR = TEST_DATA / "tenx_v2_hg19_chr21"
TENX_H5_DIR = TEST_DATA / "tenx_h5"
TENX_H5 = TENX_H5_DIR / "v2_hg19_chr21.h5"
TENX_V3_DIR = TEST_DATA / "tenx_v3_filtered_feature_bc_matrix"
