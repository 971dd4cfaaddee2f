"""In-memory sessions are per process: starting several workers is warned about."""

from pathlib import Path

import pytest

from .servers import free_port, serving_app

WARNING = "a visitor's session will not be seen by the other workers"


@pytest.mark.parametrize(("workers", "warned"), [(1, False), (2, True)])
def test_more_than_one_worker_is_warned_about(tmp_path: Path, workers: int, warned: bool) -> None:
    log = tmp_path / "gunicorn.log"
    with serving_app({}, free_port(), log, workers=workers):
        pass
    assert (WARNING in log.read_text()) is warned
