"""BERTScore through bert-score, wired per record, with a tiny local BERT built here (no network); and
reported as unavailable in one line where the model cannot be had."""

from __future__ import annotations

from pathlib import Path

import pytest

from explainbench.api.results import Sample
from explainbench.metrics import score_samples

pytest.importorskip("bert_score")

REFS = ["the sound is great", "the strap is comfy", "it works well", "nice case for the price"]
HYPS = ["the sound is great", "the strap is loud", "works", "a case"]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    wp = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wp.normalizer = normalizers.BertNormalizer(lowercase=True)
    wp.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wp.train_from_iterator(REFS + HYPS, trainers.WordPieceTrainer(vocab_size=200, special_tokens=specials,
                                                                  show_progress=False))
    tok = BertTokenizerFast(tokenizer_object=wp, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                            sep_token="[SEP]", mask_token="[MASK]", model_max_length=64)
    tok.save_pretrained(str(folder))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(str(folder))
    return folder


def _samples() -> list[Sample]:
    return [Sample(f"u{k}", f"i{k}", 4.0, r, h) for k, (r, h) in enumerate(zip(REFS, HYPS, strict=True))]


def test_bertscore_is_the_mean_of_the_package_per_record_f1(tiny_bert: Path) -> None:
    from bert_score import BERTScorer

    report = score_samples(_samples(), feature_set=None, n_boot=50, meteor=False, per_count=False,
                           families=["explain"], bertscore=str(tiny_bert))
    direct = BERTScorer(model_type=str(tiny_bert), num_layers=2, lang="en", device="cpu")
    _, _, f = direct.score(HYPS, REFS)
    mv = report.metrics["bertscore"]
    assert mv.value == pytest.approx(float(f.mean()), abs=1e-6)
    assert float(f[0]) == pytest.approx(1.0, abs=1e-5)  # identical sentences
    assert mv.ci_low is not None and mv.ci_low <= mv.value <= mv.ci_high
    signature = report.to_dict()["metrics"]["bertscore"]["signature"]
    assert f"model:{tiny_bert}" in signature and "layers:2" in signature and signature.endswith("impl_v:1")


def test_bertscore_unavailable_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from explainbench.metrics import table

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setattr(table, "_BERT_SCORERS", {})
    report = score_samples(_samples(), feature_set=None, n_boot=0, meteor=False, per_count=False,
                           families=["explain"], bertscore="roberta-large")
    assert "bertscore" not in report.metrics
    why = report.unavailable["bertscore"]
    assert "roberta-large" in why and "offline" in why and "\n" not in why
    assert "bertscore" not in score_samples(_samples(), feature_set=None, n_boot=0, meteor=False,
                                            per_count=False).metrics  # off unless asked for
