"""What `genostream launch study.h5ad` serves, opened in headless Chromium at the URL it prints: the study
view of that dataset, with its numbers, and nothing asked of any other host."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.helpers.chromium import skip_reason

if reason := skip_reason():  # one skip line for the module, saying how to get a browser
    pytest.skip(reason, allow_module_level=True)

from tests.helpers.browser import console_errors, foreign, requested_urls, text
from tests.helpers.hdf5_inputs import pbmc_h5ad
from tests.helpers.launch import launch


def test_the_printed_url_opens_the_launched_study(chromium, tmp_path: Path) -> None:
    study = pbmc_h5ad(tmp_path / "pbmc.h5ad", "csr")
    env = {k: v for k, v in os.environ.items() if k != "GENOSTREAM_CHDB_PATH"}
    command = [sys.executable, "-m", "genostream_cli", "launch", study.name, "--port", "0", "--no-browser"]
    launched = launch([*command, "--store", str(tmp_path / "store")], cwd=tmp_path, env=env)
    try:
        chromium.driver.get("about:blank")  # the logs below start from here (as the `page` fixture does)
        chromium.driver.get_log("browser")
        chromium.driver.get_log("performance")
        chromium.driver.get(launched.url)
        chromium.wait_ready()
        assert text(chromium, "#fact-cells") == "700" and text(chromium, "#fact-genes") == "765"
        assert (
            chromium.driver.execute_script("return new URL(location).searchParams.get('dataset')") == "pbmc"
        )
        assert foreign(requested_urls(chromium), launched.base) == []
        assert console_errors(chromium) == []
    finally:
        assert launched.stop() == 0, launched.lines
