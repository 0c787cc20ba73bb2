"""benchmarks/side_by_side.py reads the originals' timestamped logs and patches only their torch.load.

The log excerpts are written here by hand in the lines' format of lileipisces/PETER, NRT and Att2Seq
(utils.now_time() and the messages of their main.py); the expected spans are the timestamp differences.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "side_by_side.py"


@pytest.fixture(scope="module")
def sbs():
    spec = importlib.util.spec_from_file_location("side_by_side", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


NRT_LOG = """----------------------------------------ARGUMENTS----------------------------------------
[2025-12-06 10:00:00.000000]: Loading data
[2025-12-06 10:00:01.000000]: epoch 1
[2025-12-06 10:00:11.500000]: text ppl 900.0000 | rating loss 1.2000 | total loss 8.0000 on train
[2025-12-06 10:00:12.000000]: text ppl 800.0000 | rating loss 1.1000 | total loss 7.9000 on validation
[2025-12-06 10:00:12.100000]: epoch 2
[2025-12-06 10:00:20.100000]: text ppl 700.0000 | rating loss 1.0000 | total loss 7.5000 on train
[2025-12-06 10:00:20.600000]: text ppl 650.0000 | rating loss 1.0000 | total loss 7.4000 on validation
=========================================================================================
[2025-12-06 10:00:21.000000]: text ppl 650.0000 | rating loss 1.0 | total loss 7.4 on test | End of training
[2025-12-06 10:00:21.000000]: Generating text
[2025-12-06 10:00:23.250000]: RMSE  1.0000
[2025-12-06 10:00:23.300000]: MAE  0.8000
"""

ATT2SEQ_LOG = """[2025-12-06 10:00:01.000000]: epoch 1
[2025-12-06 10:00:31.000000]: text ppl 900.0000 on train
[2025-12-06 10:00:32.000000]: text ppl 800.0000 on validation
[2025-12-06 10:00:33.000000]: text ppl 790.0000 | End of training
[2025-12-06 10:00:33.000000]: Generating text
[2025-12-06 10:00:37.000000]: BLEU-1  9.0000
[2025-12-06 10:00:37.400000]: BLEU-4  0.5000
"""

PETER_LOG = """[2025-12-06 10:00:01.000000]: epoch 1
[2025-12-06 10:00:09.000000]: context ppl 90.0 | text ppl 80.0 | rating loss 1.0 |   200/  370 batches
[2025-12-06 10:00:10.000000]: context ppl 90.0 | text ppl 80.0 | rating loss 1.0 |   370/  370 batches
[2025-12-06 10:00:11.000000]: context ppl 1 | text ppl 1 | rating loss 1 | valid loss 1 on validation
[2025-12-06 10:00:12.000000]: Generating text
[2025-12-06 10:00:15.000000]: RMSE  1.0000
[2025-12-06 10:00:15.000000]: MAE  0.8000
"""


def test_nrt_log_spans_are_the_last_epochs_training_and_the_generation(sbs):
    out = sbs.parse_original_log(NRT_LOG, sbs.ORIGINALS["nrt"], epochs=2)
    assert out["train_s"] == pytest.approx(8.0)  # "epoch 2" -> "... on train"
    assert out["generate_s"] == pytest.approx(2.25)  # "Generating text" -> "RMSE"
    assert out["train_batches"] is None


def test_att2seq_generation_ends_at_bleu1_and_reports_the_next_span(sbs):
    out = sbs.parse_original_log(ATT2SEQ_LOG, sbs.ORIGINALS["att2seq"], epochs=1)
    assert out["train_s"] == pytest.approx(30.0)
    assert out["generate_s"] == pytest.approx(4.0)
    assert out["after_generate_s"] == pytest.approx(0.4)  # BLEU-1 -> BLEU-4


def test_peter_training_ends_at_the_last_batches_line_of_the_epoch(sbs):
    out = sbs.parse_original_log(PETER_LOG, sbs.ORIGINALS["peter"], epochs=1)
    assert out["train_s"] == pytest.approx(9.0)  # PETER logs every 200 batches: not the 200th one
    assert out["train_batches"] == 370
    assert out["generate_s"] == pytest.approx(3.0)


def test_a_log_that_stops_at_generating_text_keeps_the_training_span(sbs):
    # Att2Seq's BLEU divides by zero when every generated sentence is empty: no line after generation
    cut = ATT2SEQ_LOG[: ATT2SEQ_LOG.index("[2025-12-06 10:00:37.000000]")]
    out = sbs.parse_original_log(cut, sbs.ORIGINALS["att2seq"], epochs=1)
    assert out["train_s"] == pytest.approx(30.0)
    assert out["generate_s"] is None


def test_a_log_of_another_code_base_is_refused(sbs):
    with pytest.raises(SystemExit, match="'epoch 3'"):
        sbs.parse_original_log(NRT_LOG, sbs.ORIGINALS["nrt"], epochs=3)
    with pytest.raises(SystemExit, match="BLEU-1"):  # NRT's log read as Att2Seq's: RMSE follows generation
        sbs.parse_original_log(NRT_LOG, sbs.ORIGINALS["att2seq"], epochs=2)


def test_the_copy_changes_only_torch_load(sbs, tmp_path):
    original = tmp_path / "NRT"
    original.mkdir()
    main = "import torch\nwith open(p, 'rb') as f:\n    model = torch.load(f).to(device)\nx = 1\n"
    (original / "main.py").write_text(main)
    (original / "module.py").write_text("y = 2\n")
    copy = sbs.prepare_original(original, tmp_path / "work", "nrt")
    fixed = main.replace("torch.load(f)", "torch.load(f, weights_only=False)")
    assert (copy / "main.py").read_text() == fixed
    assert (copy / "module.py").read_text() == "y = 2\n"
    assert (original / "main.py").read_text() == main  # the user's copy is untouched
    (original / "main.py").write_text("import torch\n")
    with pytest.raises(SystemExit, match="expected one"):
        sbs.prepare_original(original, tmp_path / "work2", "nrt")
