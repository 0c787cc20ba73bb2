"""PETER: mask, layers against torch's reference layer, losses against the reference formulation,
cached decoding against full recomputation, defaults, PETER+ and training on synthetic data."""

from __future__ import annotations

import dataclasses
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from learning import unigram_cross_entropy
from torch import nn

from baselines.peter.config import PeterConfig
from baselines.peter.explainer import Peter, PeterPlus
from baselines.peter.model import PeterModule, peter_attention_mask
from explainbench.api.explainer import ExplainContext, ExplainRequest, RequestError
from explainbench.data.vocab import Vocab
from explainbench.engine.decoding import greedy_decode
from explainbench.engine.module import Batch

VOCAB = Vocab(size=30, pad_id=2, bos_id=0, eos_id=1, unk_id=3)


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_peter_mask_exact() -> None:
    allowed = [
        [1, 1, 0, 0, 0],  # the user also sees the item
        [1, 1, 0, 0, 0],
        [1, 1, 1, 0, 0],
        [1, 1, 1, 1, 0],
        [1, 1, 1, 1, 1],
    ]
    assert peter_attention_mask(5).int().tolist() == allowed
    allowed[0][1] = 0
    assert peter_attention_mask(5, peter=False).int().tolist() == allowed
    assert peter_attention_mask(1).tolist() == [[True]]


def test_defaults_are_the_reference_defaults() -> None:
    c = PeterConfig()
    assert (c.d_model, c.n_heads, c.n_layers, c.d_ffn, c.dropout) == (512, 2, 2, 2048, 0.2)
    assert (c.optimizer, c.lr, c.lr_decay, c.clip_norm, c.batch_size) == ("sgd", 1.0, 0.25, 1.0, 128)
    assert (c.text_weight, c.context_weight, c.rating_weight) == (1.0, 1.0, 0.1)
    assert (c.max_words, c.gen_max_len, c.patience, c.patience_rule, c.max_epochs, c.seed) == (
        15,
        15,
        5,
        "total",
        100,
        1111,
    )
    assert c.peter_mask and c.clone_layers and PeterPlus.takes_feature and not Peter.takes_feature
    eps = {e.name: e.value for e in entry_points(group="explainbench.explainers")}
    assert eps["peter"] == "baselines.peter.explainer:Peter"
    assert eps["peter+"] == "baselines.peter.explainer:PeterPlus"


def _module(use_feature: bool = False, seed: int = 0, n_layers: int = 2) -> PeterModule:
    torch.manual_seed(seed)
    cfg = PeterConfig(
        d_model=16, n_heads=2, n_layers=n_layers, d_ffn=24, dropout=0.1, max_words=6, gen_max_len=6
    )
    return PeterModule(cfg, VOCAB, n_users=5, n_items=4, use_feature=use_feature).eval()


@pytest.mark.parametrize("use_feature", [False, True])
def test_module_mask_is_peter_attention_mask_at_every_length(use_feature: bool) -> None:
    m = _module(use_feature)
    longest = m.positions.shape[0]
    for length in range(1, longest + 1):
        assert torch.equal(m.mask(length), peter_attention_mask(length))
    m.config.peter_mask = False
    for length in range(1, longest + 1):
        assert torch.equal(m.mask(length), peter_attention_mask(length, peter=False))


def _batch(rows: list[list[int]], width: int) -> Batch:
    """text rows (words only) -> <bos> w.. <eos> <pad>.. padded to width."""
    text = [[0, *r, 1] + [2] * (width - len(r) - 2) for r in rows]
    b = len(rows)
    return Batch(
        user=torch.arange(b) % 5,
        item=torch.arange(b) % 4,
        rating=torch.tensor([5.0, 1.0, 3.0][:b]),
        sentiment=torch.ones(b, dtype=torch.long),
        feature=torch.tensor([7, 8, 9][:b]),
        text=torch.tensor(text),
    )


def test_layers_start_as_copies_of_one_layer_as_the_reference() -> None:
    """The reference's TransformerEncoder deep-copies one initialised layer; clone_layers=False does not."""
    torch.manual_seed(0)
    cfg = PeterConfig(d_model=16, n_heads=2, n_layers=3, d_ffn=24)
    cloned = PeterModule(cfg, VOCAB, n_users=5, n_items=4, use_feature=False)
    own = PeterModule(dataclasses.replace(cfg, clone_layers=False), VOCAB, 5, 4, False)
    for module, same in ((cloned, True), (own, False)):
        first = module.layers[0].state_dict()
        for layer in module.layers[1:]:
            w = layer.state_dict()
            assert w.keys() == first.keys()
            assert torch.equal(w["in_proj.weight"], first["in_proj.weight"]) is same
            assert torch.equal(w["linear1.weight"], first["linear1.weight"]) is same
    # copies, not shared parameters: changing one layer leaves the others
    with torch.no_grad():
        cloned.layers[1].in_proj.weight.add_(1.0)
    assert not torch.equal(cloned.layers[0].in_proj.weight, cloned.layers[1].in_proj.weight)


def test_layers_match_torch_transformer_encoder_layer() -> None:
    m = _module(use_feature=True)
    b = _batch([[5, 6, 7], [8, 9], [10, 11, 12, 13, 14, 15]], width=8)
    ours = m.hidden(b, b.text[:, :-1])
    x = torch.cat(
        [
            m.user_embeddings(b.user)[:, None],
            m.item_embeddings(b.item)[:, None],
            m.word_embeddings(b.feature)[:, None],
            m.word_embeddings(b.text[:, :-1]),
        ],
        dim=1,
    )
    x = x * 16**0.5 + m.positions[: x.shape[1]]
    blocked = ~peter_attention_mask(x.shape[1])
    for layer in m.layers:
        ref = nn.TransformerEncoderLayer(16, 2, 24, dropout=0.0, batch_first=True).eval()
        with torch.no_grad():
            ref.self_attn.in_proj_weight.copy_(layer.in_proj.weight)
            ref.self_attn.in_proj_bias.copy_(layer.in_proj.bias)
            ref.self_attn.out_proj.load_state_dict(layer.out_proj.state_dict())
            for name in ("linear1", "linear2", "norm1", "norm2"):
                getattr(ref, name).load_state_dict(getattr(layer, name).state_dict())
        x = ref(x, src_mask=blocked)
    torch.testing.assert_close(ours, x, rtol=1e-5, atol=1e-5)


def _reference_losses(m: PeterModule, b: Batch, max_words: int) -> tuple[torch.Tensor, ...]:
    """PETER's main.py formulation: text padded to max_words + 2, context log-probs repeated over the
    tgt_len - 1 positions and scored by NLLLoss(ignore pad) against seq[1:-1]."""
    pad = VOCAB.pad_id
    seq = F.pad(b.text, (0, max_words + 2 - b.text.shape[1]), value=pad)
    h = m.hidden(b, seq[:, :-1])
    n = m.n_prefix
    log_word = F.log_softmax(m.hidden2token(h[:, n:]), dim=-1)
    log_ctx = F.log_softmax(m.hidden2token(h[:, 1]), dim=-1)
    tgt_len = max_words + 1
    ctx = log_ctx.unsqueeze(1).repeat(1, tgt_len - 1, 1)
    c = F.nll_loss(ctx.reshape(-1, VOCAB.size), seq[:, 1:-1].reshape(-1), ignore_index=pad)
    t = F.nll_loss(log_word.reshape(-1, VOCAB.size), seq[:, 1:].reshape(-1), ignore_index=pad)
    r = F.mse_loss(m.rating_head(h[:, 0]), b.rating)
    return t, c, r


@pytest.mark.parametrize("use_feature", [False, True])
def test_losses_match_the_reference_formulation(use_feature: bool) -> None:
    m = _module(use_feature)
    # longest row has 4 words < max_words 6: its <eos> is a context target, as in the reference;
    # the batch is trimmed to width 6 while the reference pads to 8
    b = _batch([[5, 6, 7, 8], [9, 10], [11]], width=6)
    with torch.no_grad():
        t, c, r = _reference_losses(m, b, max_words=6)
        out = m.loss(b)
        val = m.validation_loss(b)
    torch.testing.assert_close(out.parts["text"], t)
    torch.testing.assert_close(out.parts["context"], c)
    torch.testing.assert_close(out.parts["rating"], r)
    torch.testing.assert_close(out.total, t + c + 0.1 * r)
    torch.testing.assert_close(val.total, t + r)  # the reference's early-stopping loss
    # a full-length row: its <eos> (position max_words + 1) is not a context target
    b = _batch([[5, 6, 7, 8, 9, 10], [11]], width=8)
    with torch.no_grad():
        t, c, r = _reference_losses(m, b, max_words=6)
        torch.testing.assert_close(m.loss(b).parts["context"], c)


@pytest.mark.parametrize("use_feature", [False, True])
def test_cached_decoding_equals_full_recomputation(use_feature: bool) -> None:
    for seed in range(3):
        m = _module(use_feature, seed=seed)
        with torch.no_grad():  # sharpen the output so greedy paths are long and varied
            m.hidden2token.weight.mul_(20)
        b = _batch([[5], [6], [7]], width=3)
        b.text = b.text[:, :1]
        m.incremental = True
        cached = greedy_decode(m, b, max_len=6, bos_id=0, eos_id=1)
        s_inc = m.start_decoding(b)
        m.incremental = False
        full = greedy_decode(m, b, max_len=6, bos_id=0, eos_id=1)
        s_full = m.start_decoding(b)
        assert torch.equal(cached, full)
        prev = torch.zeros(3, dtype=torch.long)
        for step in range(6):
            m.incremental = True
            li, s_inc = m.decode_step(s_inc, prev)
            lf, s_full = m.decode_step(s_full, prev)
            torch.testing.assert_close(li, lf, rtol=1e-5, atol=1e-5)
            prev = cached[:, step] if step < cached.shape[1] else prev


def test_user_sees_item_only_with_the_peter_mask() -> None:
    m = _module()
    b = _batch([[5, 6]], width=4)
    b2 = _batch([[5, 6]], width=4)
    b2.item = torch.tensor([3])
    with torch.no_grad():
        assert not torch.allclose(m.predict_rating(b), m.predict_rating(b2))
        m.config.peter_mask = False
        torch.testing.assert_close(m.predict_rating(b), m.predict_rating(b2))


def _synthetic_splits(home: Path):
    """synthetic-tiny from the data layer (prepared once per session in `home`)."""
    from explainbench.data import load_manifest, load_split, load_tokenizer

    dd = load_split("synthetic-tiny", 1, home=home)
    tok = load_tokenizer("synthetic-tiny", 1, home=home)
    rating_range = tuple(load_manifest("synthetic-tiny", home=home)["rating_range"])
    return dd, tok, rating_range


def test_peter_learns_on_synthetic_tiny_and_peter_plus_needs_features(
    tiny_home: Path, tmp_path: Path
) -> None:
    dd, tok, rating_range = _synthetic_splits(tiny_home)
    cfg = PeterConfig.tiny()
    cfg.max_epochs = 4
    ctx = ExplainContext(
        tokenizer=tok, run_dir=tmp_path / "run", progress=False, rating_range=rating_range
    )
    model = Peter(cfg).fit(dd["train"], dd["validation"], context=ctx)
    history = model.train_result.history
    val = [h["val_loss"] for h in history]
    assert val[0] > val[-1] and min(val[1:]) < val[0]
    # the same learning check as NRT, Att2Seq and NETE: it learned more than word frequencies
    text = [h["val_text"] for h in history]
    unigram = unigram_cross_entropy(dd["train"], dd["validation"], tok)
    assert text[-1] < unigram - 0.3, (text, unigram)
    test = dd["test"].select(range(20))
    reqs = [ExplainRequest(r["user_id"], r["item_id"], r["rating"], r["feature"]) for r in test]
    out = model.explain(reqs)
    assert len(out) == 20 and all(e.text for e in out)
    plus = PeterPlus(PeterConfig.tiny())
    plus_ctx = ExplainContext(tokenizer=tok, run_dir=None, progress=False, rating_range=rating_range)
    plus.config.max_epochs = 1
    plus.fit(dd["train"], dd["validation"], context=plus_ctx)
    assert len(plus.explain(reqs)) == 20
    no_feature = ExplainRequest(reqs[0].user_id, reqs[0].item_id, reqs[0].rating)
    with pytest.raises(RequestError, match="takes the ground-truth feature"):
        plus.explain([no_feature])
