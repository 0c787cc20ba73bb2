"""Att2Seq: attention over attributes (hand-checked), rating attribute, loss/decoding agreement, learning."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from learning import assert_conforms, fit_on_tiny, stepwise_nll, toy_text

from baselines.att2seq import Att2SeqExplainer
from baselines.att2seq.config import Att2SeqConfig, tiny_config
from baselines.att2seq.model import Att2SeqModule, rating_class
from explainbench.data.vocab import Vocab
from explainbench.engine.module import Batch

VOCAB = Vocab(size=12, pad_id=0, bos_id=1, eos_id=2, unk_id=3)


def make_batch(n: int = 5, length: int = 7, seed: int = 0) -> Batch:
    gen = torch.Generator().manual_seed(seed)
    text = toy_text(VOCAB, gen, n, length)
    return Batch(
        user=torch.randint(0, 4, (n,), generator=gen),
        item=torch.randint(0, 3, (n,), generator=gen),
        rating=torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])[:n],
        sentiment=torch.ones(n, dtype=torch.long),
        feature=torch.full((n,), VOCAB.unk_id),
        text=text,
    )


def tiny_module(**overrides: object) -> Att2SeqModule:
    torch.manual_seed(0)
    config = Att2SeqConfig(**{**tiny_config().to_dict(), **overrides})
    return Att2SeqModule(config, VOCAB, n_users=4, n_items=3, rating_range=(1.0, 5.0))


def test_defaults_are_the_reference_defaults() -> None:
    c = Att2SeqConfig()
    assert (c.attr_size, c.hidden_size, c.word_size, c.num_layers, c.dropout) == (64, 512, 512, 2, 0.2)
    assert (c.optimizer, c.lr, c.clip_norm, c.batch_size, c.patience) == ("adam", 1e-4, 5.0, 50, 5)
    assert c.patience_rule == "total" and c.attention and c.use_rating


def test_rating_class_clamps_and_rounds() -> None:
    assert rating_class(torch.tensor([0.2, 1.0, 2.4, 3.6, 4.5001, 9.0]), 1, 5).tolist() == [0, 0, 1, 3, 4, 4]


def test_attention_weights_match_a_hand_computation_and_sum_to_one() -> None:
    module = tiny_module(attr_size=2, hidden_size=3)
    top = torch.tensor([[[0.5, -1.0, 2.0], [0.0, 0.3, -0.2]]])  # [B=1, T=2, H=3]
    attrs = torch.tensor([[[1.0, 0.0], [0.0, 2.0], [-1.0, 1.0]]])  # [B=1, k=3, A=2]
    w_h = [0.2, -0.1, 0.4]
    w_g = [0.7, -0.3]
    with torch.no_grad():
        module.score_hidden.weight.copy_(torch.tensor([w_h]))
        module.score_attribute.weight.copy_(torch.tensor([w_g]))
    weights = module.attention_weights(top, attrs)
    assert weights.shape == (1, 2, 3)
    for t in range(2):
        h = top[0, t].tolist()
        # s_i = exp(tanh(W_s [h; g_i])) / Z with W_s = [w_h, w_g]
        raw = [
            math.exp(math.tanh(sum(a * b for a, b in zip(w_h + w_g, h + g, strict=True))))
            for g in attrs[0].tolist()
        ]
        assert weights[0, t].tolist() == pytest.approx([x / sum(raw) for x in raw], abs=1e-6)
    full = module.attention_weights(torch.randn(4, 6, module.config.hidden_size), torch.randn(4, 3, 2))
    assert torch.allclose(full.sum(-1), torch.ones(4, 6), atol=1e-6)
    assert bool((full > 0).all())


def test_initial_state_is_split_over_layers_and_cell_starts_at_zero() -> None:
    module = tiny_module()
    batch = make_batch()
    attrs = module.attributes(batch)
    assert attrs.shape == (5, 3, module.config.attr_size)
    # the rating attribute is the embedding of the rating class of the batch's rating
    assert torch.equal(attrs[:, 2], module.rating_embeddings.weight[torch.arange(5)])
    h0, c0 = module.initial_state(attrs)
    encoded = torch.tanh(module.encoder(attrs.reshape(5, -1)))
    hid = module.config.hidden_size
    assert torch.equal(h0[0], encoded[:, :hid]) and torch.equal(h0[1], encoded[:, hid:])
    assert float(c0.abs().sum()) == 0.0


def test_loss_matches_stepwise_decoding() -> None:
    for attention in (True, False):
        module = tiny_module(attention=attention).eval()
        batch = make_batch()
        with torch.no_grad():
            out = module.loss(batch)
        assert float(out.total) == pytest.approx(stepwise_nll(module, batch, VOCAB), rel=1e-5)
    assert module.predict_rating(batch) is None


def test_request_rating_changes_the_explanation_state() -> None:
    module = tiny_module().eval()
    batch = make_batch()
    other = Batch(**{**batch.__dict__, "rating": torch.full((5,), 1.0)})
    with torch.no_grad():
        a = module.start_decoding(batch).h
        b = module.start_decoding(other).h
    assert torch.equal(a[:, 0], b[:, 0])  # row 0 already has rating 1
    assert not torch.allclose(a[:, 4], b[:, 4])


def test_reference_code_model_parameter_count() -> None:
    """use_rating=False, attention=False is the reference code's network: count by hand."""
    v, users, items, a, h = 50, 7, 9, 64, 512
    config = Att2SeqConfig(use_rating=False, attention=False)
    module = Att2SeqModule(config, Vocab(v, 0, 1, 2, 3), users, items, (1.0, 5.0))
    lstm_layer = 4 * (h * h + h * h + 2 * h)  # input 512 = word size, hidden 512
    expected = (users + items) * a + (2 * a * 2 * h + 2 * h) + v * h + 2 * lstm_layer + h * v + v
    assert sum(p.numel() for p in module.parameters()) == expected
    paper = Att2SeqModule(Att2SeqConfig(), Vocab(v, 0, 1, 2, 3), users, items, (1.0, 5.0))
    extra = 5 * a + (a * 2 * h) + (h + a) + (a * h) + (h * h + h)  # rating emb, wider encoder, attention
    assert sum(p.numel() for p in paper.parameters()) == expected + extra


# ---- on the engine, with synthetic-tiny (fixture tiny_home: tests/conftest.py) ------------------------
def test_check_explainer_passes(tiny_home: Path) -> None:
    assert_conforms(Att2SeqExplainer, tiny_config(), tiny_home)


def test_validation_loss_falls_on_synthetic_tiny(tiny_home: Path) -> None:
    config = tiny_config()
    config.max_epochs = 3
    explainer, unigram = fit_on_tiny(Att2SeqExplainer, config, tiny_home)
    losses = [h["val_loss"] for h in explainer.train_result.history]
    assert len(losses) == 3 and losses[0] > losses[1] > losses[2]
    assert losses[-1] < unigram - 0.3  # it has learned more than word frequencies
