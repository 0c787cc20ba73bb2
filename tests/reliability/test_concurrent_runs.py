"""4 `run` processes at once on one home: the same run twice and two other runs.

Nothing is lost, no run is trained twice (one `train:` line per run folder and each epoch logged once),
and every results file is valid.
"""

from __future__ import annotations

from harness import DATA, EPOCHS, NRT, assert_clean_home, comparable, fresh_home, nrt_run_dir, popen

from explainbench.api.results import read_results, read_samples


def test_four_concurrent_runs_on_one_home(base_home, data_home, tmp_path):
    home = fresh_home(data_home, tmp_path / "home")
    commands = [NRT, NRT, (*NRT, "--seed", "2"), (*NRT, "--seed", "3")]
    procs = [popen(home, *args) for args in commands]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, stderr) in zip(procs, outs, strict=True):
        assert p.returncode == 0, stderr
    trained = [stderr.count("train: nrt on") for _, stderr in outs]
    assert trained[2:] == [1, 1] and sorted(trained[:2]) == [0, 1], outs  # the twin run trained once
    assert sum("already finished" in stdout for stdout, _ in outs[:2]) == 1, outs

    runs = sorted((home / "runs" / DATA / "split-1" / "nrt").iterdir())
    assert len(runs) == 3
    for rdir in runs:
        results = read_results(rdir / "results.json")
        assert len(read_samples(rdir / "samples.jsonl")) == results["n"]["effective"] == 20
        assert [r["epoch"] for r in (_epochs(rdir))] == list(range(1, EPOCHS + 1))
    base = nrt_run_dir(base_home)
    same = home / base.relative_to(base_home)
    assert comparable(read_results(same / "results.json")) == comparable(read_results(base / "results.json"))
    assert len({read_results(r / "results.json")["config"]["seed"] for r in runs}) == 3
    assert_clean_home(home)


def _epochs(rdir):
    from harness import epoch_lines

    return epoch_lines(rdir)
