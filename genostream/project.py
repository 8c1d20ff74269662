"""Where the dbt project and its profile are, in an installed package and in a source checkout alike.

An installed package carries them as package data (`genostream/dbt_project/`, `genostream/profiles.yml`:
pyproject.toml maps the repository's dbt_project/ folder into the package); a checkout or an editable install
has them at the repository root (`dbt_project/`, `profiles.yml`). Either way the profile sits in the directory
that holds the project, so commands run from any working directory find both here.
"""

from __future__ import annotations

from pathlib import Path

from genostream.errors import ConfigurationError

PROJECT_FOLDER = "dbt_project"
PROFILE_FILE = "profiles.yml"
_PACKAGE = Path(__file__).resolve().parent


def dbt_project_dir() -> Path:
    """The dbt project (the folder holding dbt_project.yml): the package's copy, else the checkout's."""
    for candidate in (_PACKAGE / PROJECT_FOLDER, _PACKAGE.parent / PROJECT_FOLDER):
        if (candidate / "dbt_project.yml").is_file():
            return candidate
    raise ConfigurationError(f"no dbt project beside {_PACKAGE}: the genostream installation is incomplete")


def profiles_dir() -> Path:
    """The directory holding profiles.yml (dbt's --profiles-dir): the one that holds the project."""
    directory = dbt_project_dir().parent
    if not (directory / PROFILE_FILE).is_file():
        raise ConfigurationError(
            f"no {PROFILE_FILE} in {directory}: the genostream installation is incomplete"
        )
    return directory
