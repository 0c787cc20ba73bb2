"""NETE: GFRU gate (hand-checked), sentiment switching, the two stages' losses, learning."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from learning import assert_conforms, fit_on_tiny, stepwise_nll, toy_text

from baselines.nete import NETEExplainer
from baselines.nete.config import NETEConfig, tiny_config
from baselines.nete.model import GFRU, NETEModule
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
        sentiment=torch.tensor([1, 0, 1, 0, 1])[:n],
        feature=torch.randint(4, VOCAB.size, (n,), generator=gen),
        text=text,
    )


def tiny_module(**overrides: object) -> NETEModule:
    torch.manual_seed(0)
    config = NETEConfig(**{**tiny_config().to_dict(), **overrides})
    return NETEModule(config, VOCAB, n_users=4, n_items=3, rating_range=(1.0, 5.0))


def constant_rating(module: NETEModule, value: float) -> None:
    with torch.no_grad():
        module.rating_model.mlp[-1].weight.zero_()
        module.rating_model.mlp[-1].bias.fill_(value)


def test_defaults_are_the_reference_defaults() -> None:
    c = NETEConfig()
    assert (c.latent_size, c.word_size, c.hidden_size, c.rating_layers) == (200, 200, 256, 4)
    assert (c.optimizer, c.lr, c.batch_size, c.rating_l2, c.dropout) == ("adam", 1e-4, 128, 1e-4, 0.2)
    assert (c.patience, c.patience_rule) == (1, "consecutive")
    module = NETEModule(c, Vocab(30, 0, 1, 2, 3), 5, 6, (1.0, 5.0))
    widths = [m.out_features for m in module.rating_model.mlp if isinstance(m, torch.nn.Linear)]
    assert widths == [400, 400, 400, 400, 1]  # 4 sigmoid layers of 2 x latent, then the prediction
    assert module.sentiment_threshold == 3.0


def test_gfru_gate_and_fusion_match_a_hand_computation() -> None:
    unit = GFRU(input_size=2, hidden_size=2, fusion_size=1, dropout=0.0)
    with torch.no_grad():
        for p in unit.parameters():
            p.zero_()
        # zero-weight GRU cells: r = z = sigmoid(0) = 0.5, candidate n = tanh(b_in), h' = 0.5 n + 0.5 h
        unit.word_cell.bias_ih[4:] = torch.tensor([0.2, -0.4])
        unit.feature_cell.bias_ih[4:] = torch.tensor([1.0, 0.5])
        unit.word_proj.weight.copy_(torch.tensor([[1.0, 2.0]]))
        unit.feature_proj.weight.copy_(torch.tensor([[-1.0, 0.5]]))
        unit.gate_proj.weight.copy_(torch.tensor([[0.8, -1.5]]))
    h = [0.3, -0.6]
    hw = [0.5 * math.tanh(0.2) + 0.5 * h[0], 0.5 * math.tanh(-0.4) + 0.5 * h[1]]
    hf = [0.5 * math.tanh(1.0) + 0.5 * h[0], 0.5 * math.tanh(0.5) + 0.5 * h[1]]
    gamma = 1 / (1 + math.exp(-(0.8 * math.tanh(hw[0] + 2 * hw[1]) - 1.5 * math.tanh(-hf[0] + 0.5 * hf[1]))))
    expected = [(1 - gamma) * a + gamma * b for a, b in zip(hw, hf, strict=True)]
    x = torch.tensor([[0.7, -0.1]])
    f = torch.tensor([[-2.0, 0.4]])
    state = torch.tensor([h])
    got_gamma = unit.gate(unit.word_cell(x, state), unit.feature_cell(f, state))
    assert got_gamma.item() == pytest.approx(gamma, abs=1e-6)
    assert unit(x, f, state)[0].tolist() == pytest.approx(expected, abs=1e-6)


def test_sentiment_is_the_template_in_training_and_the_predicted_rating_otherwise() -> None:
    module = tiny_module()
    batch = make_batch()
    constant_rating(module, 2.2)  # predicted negative
    module.train()
    assert module.sentiment_input(batch).tolist() == [1, 0, 1, 0, 1]
    module.eval()
    assert module.sentiment_input(batch).tolist() == [0] * 5
    constant_rating(module, 3.0)  # the midpoint of [1, 5] counts as positive (reference: r < 3 negative)
    assert module.sentiment_input(batch).tolist() == [1] * 5
    # and it reaches the initial state: eval (all positive) differs from training on the negative rows
    module.gfru.dropout.p = 0.0
    eval_h = module.start_decoding(batch).hidden
    module.train()
    train_h = module.start_decoding(batch).hidden
    assert torch.allclose(eval_h[0], train_h[0]) and not torch.allclose(eval_h[1], train_h[1])


def test_rating_stage_is_mse_plus_l2_and_trains_only_the_rating_model() -> None:
    module = tiny_module()
    batch = make_batch()
    module.set_stage("rating")
    out = module.loss(batch)
    params = list(module.rating_model.parameters())
    l2 = sum(float((p.detach() ** 2).sum()) for p in params) / 2
    mse = float(((module.predict_rating(batch).detach() - batch.rating) ** 2).mean())
    assert float(out.total.detach()) == pytest.approx(mse + 1e-4 * l2, rel=1e-5)
    out.total.backward()
    assert all(p.grad is not None for p in params)
    others = [p for n, p in module.named_parameters() if not n.startswith("rating_model.")]
    assert all(p.grad is None for p in others)
    with pytest.raises(ValueError, match="stage"):
        module.set_stage("both")


def test_text_stage_trains_only_the_text_model() -> None:
    module = tiny_module()
    module.set_stage("text")
    module.loss(make_batch()).total.backward()
    assert all(p.grad is None for p in module.rating_model.parameters())
    assert module.gfru.gate_proj.weight.grad is not None
    assert float(module.word_embeddings.weight.grad.abs().sum()) > 0


def test_text_loss_matches_stepwise_decoding() -> None:
    module = tiny_module().eval()
    batch = make_batch()
    with torch.no_grad():
        out = module.loss(batch)
    assert float(out.total) == pytest.approx(stepwise_nll(module, batch, VOCAB), rel=1e-5)


def test_the_feature_steers_generation() -> None:
    module = tiny_module().eval()
    batch = make_batch()
    other = Batch(**{**batch.__dict__, "feature": torch.full((5,), VOCAB.unk_id)})
    with torch.no_grad():
        a, _ = module.decode_step(module.start_decoding(batch), batch.text[:, 0])
        b, _ = module.decode_step(module.start_decoding(other), batch.text[:, 0])
    assert not torch.allclose(a, b)


# ---- on the engine, with synthetic-tiny (fixture tiny_home: tests/conftest.py) ------------------------
def test_check_explainer_passes(tiny_home: Path) -> None:
    assert_conforms(NETEExplainer, tiny_config(), tiny_home)


def test_validation_loss_falls_on_synthetic_tiny(tiny_home: Path) -> None:
    config = tiny_config()
    config.max_epochs = 3
    explainer, unigram = fit_on_tiny(NETEExplainer, config, tiny_home)
    rating = [h["val_rating"] for h in explainer.rating_result.history]
    assert rating[-1] < rating[0]
    text = [h["val_loss"] for h in explainer.train_result.history]
    assert len(text) >= 2 and text[1] < text[0]
    assert min(text) < unigram - 0.3  # it has learned more than word frequencies
