"""Every UI test module starts with empty app caches and stores (models, runs, jobs are
shared by all sessions of the process) and leaves none behind: its background jobs
finished, its caches cleared."""

import pytest

from tests.app_driver import clear_caches, finish_jobs


@pytest.fixture(scope="module", autouse=True)
def fresh_caches_per_module():
    clear_caches()
    yield
    finish_jobs()
    clear_caches()
