"""Batched greedy decoding against hand-written score tables."""

from __future__ import annotations

import torch

from explainbench.engine.decoding import greedy_decode
from explainbench.engine.module import Batch, ExplainerModule, StepLoss

BOS, EOS, V = 0, 1, 6


class Table(ExplainerModule):
    """decode_step t returns row b's preferred token table[b][t] (score 1, others 0); records its inputs."""

    def __init__(self, table: list[list[int]]) -> None:
        super().__init__()
        self.table = table
        self.fed: list[list[int]] = []
        self.modes: list[bool] = []

    def loss(self, batch: Batch) -> StepLoss:  # pragma: no cover - not used
        raise NotImplementedError

    def start_decoding(self, batch: Batch) -> int:
        self.modes.append(self.training)
        return 0

    def decode_step(self, state: int, previous: torch.Tensor) -> tuple[torch.Tensor, int]:
        self.fed.append(previous.tolist())
        logits = torch.zeros(len(self.table), V)
        for b, row in enumerate(self.table):
            logits[b, row[min(state, len(row) - 1)]] = 1.0
        return logits, state + 1


def _batch(size: int) -> Batch:
    z = torch.zeros(size, dtype=torch.long)
    return Batch(z, z, torch.ones(size), z, z, torch.full((size, 1), BOS))


def test_greedy_cuts_at_eos_and_feeds_back_argmax() -> None:
    m = Table([[2, 3, EOS, 4, 5], [5, EOS, 2, 2, 2], [4, 4, 4, 4, 4]])
    m.train()
    out = greedy_decode(m, _batch(3), max_len=5, bos_id=BOS, eos_id=EOS)
    assert out.tolist() == [[2, 3, EOS, EOS, EOS], [5, EOS, EOS, EOS, EOS], [4, 4, 4, 4, 4]]
    # inputs: <bos>, then each row's previous output (finished rows are fed <eos>)
    assert m.fed == [[BOS] * 3, [2, 5, 4], [3, EOS, 4], [EOS, EOS, 4], [EOS, EOS, 4]]
    assert m.modes == [False] and m.training  # decoded in eval mode, mode restored


def test_stops_when_every_row_finished_and_respects_max_len() -> None:
    m = Table([[2, EOS, 3], [EOS, 3, 3]])
    out = greedy_decode(m, _batch(2), max_len=10, bos_id=BOS, eos_id=EOS)
    assert out.tolist() == [[2, EOS], [EOS, EOS]] and len(m.fed) == 2
    m = Table([[2, 3, 4, 5]])
    assert greedy_decode(m, _batch(1), max_len=3, bos_id=BOS, eos_id=EOS).tolist() == [[2, 3, 4]]
    assert greedy_decode(m, _batch(1), max_len=0, bos_id=BOS, eos_id=EOS).shape == (1, 0)


def test_checking_for_the_end_every_k_steps_only_appends_eos() -> None:
    """The GPU's sparse "all finished?" check: the same sentences, at most k - 1 extra <eos> columns."""
    table = [[2, EOS, 3, 3, 3, 3, 3], [4, 4, EOS, 3, 3, 3, 3]]
    every_step = greedy_decode(Table(table), _batch(2), max_len=7, bos_id=BOS, eos_id=EOS)
    assert every_step.tolist() == [[2, EOS, EOS], [4, 4, EOS]]
    m = Table(table)
    sparse = greedy_decode(m, _batch(2), max_len=7, bos_id=BOS, eos_id=EOS, stop_check_every=4)
    assert sparse.tolist() == [[2, EOS, EOS, EOS], [4, 4, EOS, EOS]] and len(m.fed) == 4
    m = Table(table)
    assert greedy_decode(m, _batch(2), max_len=2, bos_id=BOS, eos_id=EOS, stop_check_every=4).shape == (2, 2)


def test_ties_go_to_the_lowest_id() -> None:
    class Flat(Table):
        def decode_step(self, state, previous):
            return torch.zeros(len(previous), V), state + 1

    out = greedy_decode(Flat([[0], [0]]), _batch(2), max_len=2, bos_id=BOS, eos_id=EOS)
    assert out.tolist() == [[0, 0], [0, 0]]  # id 0 wins the all-equal row
