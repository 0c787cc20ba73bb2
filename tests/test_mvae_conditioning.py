"""Regression: the test architecture's prior path (user, item, rating -> mu_p, E' -> T1, T2) reaches GPT-2.

A crafted corpus where the explanation is a function of the item only: item k writes "w_(4+k) w_(11-k)"
(4 items, one user, one rating). A model that ignores the item cannot do better than log 4 nats per
sentence (the first word is one of 4 equally likely words, the second follows from it); a model that
reads the item can drive the loss to 0. So after a short training run, in the test architecture
(validation_loss, z = mu_p), the true items must give a loss below log 4 and clearly below the loss with
the items rotated, and greedy decoding must write different sentences for different items.

`mvae-norn` (trained in the test architecture) passes in 80 steps; `mvae` and the variants trained with
the recognition network need 200 (the decoder first learns to read r_z, then the prior to track it).
Before the recognition encoder's position embeddings were initialised like GPT-2's and the prior tracked
the recognition distribution as its target, `mvae` failed this test at any budget tried
(docs/models/mvae.md, "Diagnosis").
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from explainbench.data.vocab import Vocab
from explainbench.engine.decoding import greedy_decode
from explainbench.engine.module import Batch
from explainbench.models.mvae import (
    MVAEConfig,
    MVAEModule,
    MVAEMSEConfig,
    MVAENoKLConfig,
    MVAENoMLFConfig,
    MVAENoRNConfig,
)

VOCAB = Vocab(size=12, pad_id=0, bos_id=1, eos_id=2, unk_id=3)
N_ITEMS = 4


def _batch(items: torch.Tensor) -> Batch:
    """Item k -> <bos> (4 + k) (11 - k) <eos>: the words are a function of the item alone."""
    n = items.shape[0]
    text = torch.stack(
        [torch.full((n,), VOCAB.bos_id), 4 + items, 11 - items, torch.full((n,), VOCAB.eos_id)], dim=1
    )
    return Batch(
        user=torch.zeros(n, dtype=torch.long),
        item=items,
        rating=torch.full((n,), 4.0),
        sentiment=torch.ones(n, dtype=torch.long),
        feature=torch.full((n,), VOCAB.unk_id),
        text=text,
    )


def _train(config: MVAEConfig, steps: int) -> MVAEModule:
    torch.manual_seed(0)
    module = MVAEModule(config, VOCAB, 1, N_ITEMS)
    optimizer = torch.optim.AdamW(module.parameters(), lr=config.lr)
    g = torch.Generator().manual_seed(0)
    module.train()
    for step in range(steps):
        module.set_step(step)
        loss = module.loss(_batch(torch.randint(0, N_ITEMS, (32,), generator=g))).total
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return module.eval()


def _check_prior_reaches_decoder(config: MVAEConfig, steps: int, min_sentences: int = 3) -> None:
    module = _train(dataclasses.replace(config, dropout=0.0), steps)
    items = torch.arange(N_ITEMS).repeat(8)
    with torch.no_grad():
        true = module.validation_loss(_batch(items)).total.item()
        # the same sentences, each scored for the next item: an item-blind model scores both the same
        rotated = module.validation_loss(dataclasses.replace(_batch(items), item=items.roll(1))).total.item()
        out = greedy_decode(
            module, _batch(torch.arange(N_ITEMS)), max_len=4, bos_id=VOCAB.bos_id, eos_id=VOCAB.eos_id
        )
    assert true < math.log(N_ITEMS), (true, rotated)  # below what any item-blind model can reach
    assert rotated > 1.5 * true, (true, rotated)
    assert len({tuple(row) for row in out.tolist()}) >= min_sentences, out.tolist()


def test_norn_prior_path_reaches_the_decoder() -> None:
    _check_prior_reaches_decoder(MVAENoRNConfig.tiny(), steps=80)


@pytest.mark.parametrize(
    ("config_class", "min_sentences"),
    # mvae-nomlf keeps only the smallest scale (3 dimensions in the tiny config): 2 of 4 sentences
    [(MVAEConfig, 3), (MVAENoKLConfig, 3), (MVAENoMLFConfig, 2), (MVAEMSEConfig, 3)],
)
def test_prior_path_reaches_the_decoder(config_class: type[MVAEConfig], min_sentences: int) -> None:
    _check_prior_reaches_decoder(config_class.tiny(), steps=200, min_sentences=min_sentences)


def test_without_target_tracking_mvae_does_not_condition() -> None:
    """The literal gradient of eq. 6's KL(q_r || q_p) (into both networks) collapses both to one point."""
    module = _train(dataclasses.replace(MVAEConfig.tiny(), dropout=0.0, track_target=False), steps=200)
    items = torch.arange(N_ITEMS).repeat(8)
    with torch.no_grad():
        true = module.validation_loss(_batch(items)).total.item()
    assert true > math.log(N_ITEMS), true
