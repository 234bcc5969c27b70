"""The `workers:` config section (aggregator/configworkers.py), read through load_config."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.config import load_config
from aggregator.errors import ConfigError
from aggregator.models import WorkerSettings


def load(tmp_path: Path, text: str) -> WorkerSettings:
    path = tmp_path / "aggregator.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(str(path), {}).workers


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return [
        str(issue).removeprefix(f"{tmp_path / 'aggregator.yaml'}:") for issue in caught.value.issues
    ]


def test_defaults_and_intervals(tmp_path: Path) -> None:
    assert load(tmp_path, "sources: []\n") == WorkerSettings(lease=300.0, claim_batch=256)
    assert load(tmp_path, "workers: {lease: 2m, claim_batch: 32}\n") == WorkerSettings(120.0, 32)
    assert load(tmp_path, "workers:\n  lease: 45.5\n").lease == 45.5


def test_bad_values_name_their_line(tmp_path: Path) -> None:
    text = "workers:\n  lease: soon\n  claim_batch: 0\n  leases: 3\n"
    assert problems(tmp_path, text) == [
        "2: workers.lease: invalid interval 'soon' (use e.g. 30s, 15m, 1h, 1d)",
        "3: workers.claim_batch: must be at least 1",
        "4: workers.leases: unknown key (did you mean 'lease'?)",
    ]


def test_the_lease_must_outlast_one_fetch(tmp_path: Path) -> None:
    text = "fetch: {connect_timeout: 5, read_timeout: 20}\nworkers:\n  lease: 25\n"
    assert problems(tmp_path, text) == [
        "3: workers.lease: must be more than fetch.connect_timeout + fetch.read_timeout (25 s), "
        "so that a source's lease outlasts its fetch even when the worker cannot renew it"
    ]
    assert load(tmp_path, text.replace("25", "26")).lease == 26
