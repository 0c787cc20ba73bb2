"""NRT: the rating one-hot, the GRU's initial state (hand-checked), loss/decoding agreement, learning."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from learning import assert_conforms, fit_on_tiny, stepwise_nll, toy_text

from baselines.nrt import NRTExplainer
from baselines.nrt.config import NRTConfig, tiny_config
from baselines.nrt.model import NRTModule, rating_one_hot
from explainbench.data.vocab import Vocab
from explainbench.engine.module import Batch

VOCAB = Vocab(size=12, pad_id=0, bos_id=1, eos_id=2, unk_id=3)


def make_batch(n: int = 5, length: int = 7, seed: int = 0) -> Batch:
    gen = torch.Generator().manual_seed(seed)
    text = toy_text(VOCAB, gen, n, length)
    return Batch(
        user=torch.randint(0, 4, (n,), generator=gen),
        item=torch.randint(0, 3, (n,), generator=gen),
        rating=torch.randint(1, 6, (n,), generator=gen).float(),
        sentiment=torch.ones(n, dtype=torch.long),
        feature=torch.full((n,), VOCAB.unk_id),
        text=text,
    )


def tiny_module(**overrides: object) -> NRTModule:
    torch.manual_seed(0)
    config = NRTConfig(**{**tiny_config().to_dict(), **overrides})
    return NRTModule(config, VOCAB, n_users=4, n_items=3, rating_range=(1.0, 5.0))


def test_defaults_are_the_reference_defaults() -> None:
    c = NRTConfig()
    assert (c.emb_size, c.hidden_size, c.rating_layers) == (300, 400, 4)
    assert (c.optimizer, c.lr, c.batch_size, c.patience, c.patience_rule) == ("adam", 1e-4, 200, 5, "total")
    assert (c.text_weight, c.rating_weight, c.max_words, c.gen_max_len) == (1.0, 1.0, 15, 15)
    with pytest.raises(ValueError, match="rating_class"):
        NRTConfig(rating_class="ceil")


def test_rating_one_hot_clamps_then_truncates_or_rounds() -> None:
    rating = torch.tensor([0.3, 1.0, 2.6, 3.99, 4.7, 6.2])
    # reference: clamp to [1, 5] then int cast -> 1, 1, 2, 3, 4, 5
    truncated = rating_one_hot(rating, 1, 5, "truncate")
    assert truncated.argmax(1).tolist() == [0, 0, 1, 2, 3, 4]
    assert truncated.sum(1).tolist() == [1.0] * 6
    rounded = rating_one_hot(rating, 1, 5, "round")  # 1, 1, 3, 4, 5, 5
    assert rounded.argmax(1).tolist() == [0, 0, 2, 3, 4, 4]


def test_initial_state_joins_embeddings_and_one_hot_of_predicted_rating() -> None:
    module = tiny_module(emb_size=2, hidden_size=3)
    with torch.no_grad():
        module.user_embeddings.weight[1] = torch.tensor([1.0, 2.0])
        module.item_embeddings.weight[2] = torch.tensor([3.0, -4.0])
        last = module.rating_mlp[-1]
        last.weight.zero_()
        last.bias.fill_(4.7)  # predicted rating 4.7 -> class 4 -> one-hot position 3
        w = torch.zeros(3, 2 + 2 + 5)
        w[0, 0] = 0.5  # 0.5 * user[0] = 0.5
        w[1, 3] = 0.25  # 0.25 * item[1] = -1.0
        w[2, 4:] = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5])  # picks 0.4 from one-hot position 3
        module.state_encoder.weight.copy_(w)
        module.state_encoder.bias.copy_(torch.tensor([0.0, 0.0, 0.1]))
    batch = make_batch(1)
    batch.user[0], batch.item[0] = 1, 2
    rating, h0 = module.encode(batch)
    assert rating.item() == pytest.approx(4.7)
    expected = [math.tanh(0.5), math.tanh(-1.0), math.tanh(0.4 + 0.1)]
    assert h0.shape == (1, 1, 3)
    assert h0[0, 0].tolist() == pytest.approx(expected, abs=1e-6)
    with torch.no_grad():
        module.rating_mlp[-1].bias.fill_(0.2)  # clamped up to 1 -> position 0
    assert module.encode(batch)[1][0, 0, 2].item() == pytest.approx(math.tanh(0.1 + 0.1), abs=1e-6)


def test_text_loss_sends_no_gradient_through_the_one_hot() -> None:
    module = tiny_module(rating_weight=0.0)
    module.loss(make_batch()).total.backward()
    assert all(p.grad is None or float(p.grad.abs().sum()) == 0.0 for p in module.rating_mlp.parameters())
    assert float(module.state_encoder.weight.grad.abs().sum()) > 0.0


def test_loss_is_text_nll_plus_rating_mse_and_matches_stepwise_decoding() -> None:
    module = tiny_module().eval()
    batch = make_batch()
    with torch.no_grad():
        out = module.loss(batch)
        mse = float(((module.predict_rating(batch) - batch.rating) ** 2).mean())
    text_nll = stepwise_nll(module, batch, VOCAB)
    assert float(out.parts["text"]) == pytest.approx(text_nll, rel=1e-5)
    assert float(out.parts["rating"]) == pytest.approx(mse, rel=1e-5)
    assert float(out.total) == pytest.approx(text_nll + mse, rel=1e-5)
    assert module.predict_rating(batch).shape == (len(batch),)


def test_reference_size_parameter_count() -> None:
    """The default network has the reference's parameters: counted here from the architecture by hand."""
    v, users, items, e, h = 100, 7, 9, 300, 400
    module = NRTModule(NRTConfig(), Vocab(v, 0, 1, 2, 3), users, items, (1.0, 5.0))
    expected = (
        (users + items) * e
        + (2 * e * h + h) + 4 * (h * h + h) + (h + 1)  # rating MLP
        + (2 * e + 5) * h + h  # state encoder
        + v * e + 3 * (e * h + h * h + 2 * h)  # word embeddings, GRU
        + h * v + v  # output layer
    )
    assert sum(p.numel() for p in module.parameters()) == expected


# ---- on the engine, with synthetic-tiny (fixture tiny_home: tests/conftest.py) ------------------------
def test_check_explainer_passes(tiny_home: Path) -> None:
    assert_conforms(NRTExplainer, tiny_config(), tiny_home)


def test_validation_loss_falls_on_synthetic_tiny(tiny_home: Path) -> None:
    config = tiny_config()
    config.max_epochs = 3
    explainer, unigram = fit_on_tiny(NRTExplainer, config, tiny_home)
    history = explainer.train_result.history
    text = [h["val_text"] for h in history]
    assert len(history) == 3 and text[0] > text[1] > text[2]
    assert text[-1] < unigram - 0.3  # it has learned more than word frequencies
    rating = [h["val_rating"] for h in history]
    assert rating[-1] < rating[0]
