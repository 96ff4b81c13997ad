"""`python -m scripts.benchmarks.bench_verify BUNDLE` times verification of an exported bundle in
fresh processes, as the bench's verify row does, without the rest of the bench."""

from __future__ import annotations

import re

import pytest

from ledger.bundle import export_bundle
from scripts.benchmarks import bench_verify


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_it_verifies_a_bundle_and_prints_each_runs_time_rate_and_memory(world, tmp_path, capsys):
    export_bundle(world.ledger, tmp_path / "bundle")
    size = world.ledger.size()
    bench_verify.main([str(tmp_path / "bundle"), "--runs", "2"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["run 1", "run 2"]
    for line in lines:
        assert re.fullmatch(rf"run \d: {size:,} entries in [\d.]+ s, [\d,]+ entries/s, peak [1-9]\d* MB "
                            r"\(load average [\d.]+\)", line), line


def test_a_folder_that_is_no_bundle_is_refused_saying_why(tmp_path, capsys):
    with pytest.raises(SystemExit) as refused:
        bench_verify.main([str(tmp_path)])
    assert refused.value.code == 2 and "holds no manifest.json" in capsys.readouterr().err
