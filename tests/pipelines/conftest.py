"""The reference run of the system tests (tests/pipelines/system.py), made once per session."""

from __future__ import annotations

import pytest

from tests.pipelines.system import Reference, reference_run


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    return reference_run(tmp_path_factory.mktemp("system"))
