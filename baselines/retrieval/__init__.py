"""`retrieve`: the item's training sentence closest to what the user writes (a retrieval floor).

The RecSys 2024 reproducibility study of text explainers (Ariza-Casabona, Boratto and Salamo) found
retrieval-based hybrids the strongest models once retrieval is realistic: a generator that cannot
beat copying the right training sentence has learnt little. This floor copies one:

1. Every distinct training explanation, in its test-reference form (`context.tokenizer.reference`, as
   the other floors), is a document of BM25 (Okapi, k1 1.5, b 0.75, from the `rank_bm25` package),
   indexed over all training sentences.
2. A user's query is the words of all the user's training sentences (repeats kept).
3. The candidates for (user, item) are the item's distinct training sentences. An item with fewer than
   `min_candidates` of them backs off: the sentences of its `neighbours` most similar items join them
   (items are documents of a second BM25 index, each the words of its training sentences, queried with
   the item's own words).
4. The answer is the candidate with the highest BM25 score for the user's query (ties: the item's own
   sentences first, then the alphabetically first).

It never sees the test record's text or feature: only ids and the training split, like every other
floor. Unknown ids: RequestError, or with unknown_ids=fallback the candidate that best matches the
item's own words (unknown user) or the user's best sentence overall (unknown item).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from baselines.reference import ReferenceConfig, _normalised_column, _ReferenceExplainer, column
from explainbench.api.explainer import (
    ExplainContext,
    ExplainerConfig,
    ExplainRequest,
    Explanation,
)


@dataclass
class RetrieveConfig(ReferenceConfig):
    """BM25 retrieval. min_candidates: an item with fewer distinct training sentences backs off to its
    `neighbours` most similar items' sentences (0 neighbours: never). k1, b: BM25's parameters."""

    min_candidates: int = 5
    neighbours: int = 5
    k1: float = 1.5
    b: float = 0.75

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.min_candidates < 1:
            raise ValueError(f"min_candidates must be >= 1, got {self.min_candidates}")
        if self.neighbours < 0:
            raise ValueError(f"neighbours must be >= 0, got {self.neighbours}")


class Retrieve(_ReferenceExplainer):
    """See the module docstring."""

    name: ClassVar[str] = "retrieve"
    config_class: ClassVar[type[ExplainerConfig]] = RetrieveConfig
    config: RetrieveConfig

    def __init__(self, config: ExplainerConfig | None = None) -> None:
        super().__init__(config)
        self._fitted = False
        self.records: list[tuple[str, str, str]] = []  # (user, item, sentence) of the training split

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, train: Any, validation: Any, *, context: ExplainContext) -> Retrieve:
        sentences = _normalised_column(train, context)
        users = [str(u) for u in column(train, "user_id")]
        items = [str(i) for i in column(train, "item_id")]
        self.records = [(u, i, s) for u, i, s in zip(users, items, sentences, strict=True) if s]
        if not self.records:
            raise ValueError("retrieve: the training split has no non-empty explanation")
        self._index()
        return self

    def _index(self) -> None:
        """The two BM25 indexes, the queries and the item sentence lists from self.records
        (deterministic: load() re-runs it)."""
        from rank_bm25 import BM25Okapi

        cfg = self.config
        self.sentences = sorted({s for _, _, s in self.records})
        row = {s: k for k, s in enumerate(self.sentences)}
        self.bm25 = BM25Okapi([s.split() for s in self.sentences], k1=cfg.k1, b=cfg.b)
        self.user_words: dict[str, list[str]] = {}
        item_words: dict[str, list[str]] = {}
        own: dict[str, set[int]] = {}
        for user, item, sentence in self.records:
            self.user_words.setdefault(user, []).extend(sentence.split())
            item_words.setdefault(item, []).extend(sentence.split())
            own.setdefault(item, set()).add(row[sentence])
        self.users, self.items = set(self.user_words), set(item_words)
        self.item_names = sorted(item_words)
        self.item_words = [item_words[i] for i in self.item_names]
        self.item_bm25 = BM25Okapi(self.item_words, k1=cfg.k1, b=cfg.b)
        self.item_index = {i: k for k, i in enumerate(self.item_names)}
        self.own = {i: np.array(sorted(v), dtype=np.int64) for i, v in own.items()}
        self._candidates: dict[str, tuple[np.ndarray, int]] = {}
        self._fitted = True

    def candidates(self, item: str) -> tuple[np.ndarray, int]:
        """(sentence rows, how many of them are the item's own): own first, then the nearest items'.
        Computed on first use (back-off queries the item index) and kept."""
        if item not in self._candidates:
            own = self.own[item]
            rows = own
            few = len(own) < self.config.min_candidates
            if few and self.config.neighbours > 0 and len(self.item_names) > 1:
                k = self.item_index[item]
                scores = self.item_bm25.get_scores(sorted(set(self.item_words[k])))
                scores[k] = -np.inf
                nearest = np.lexsort((np.arange(len(scores)), -scores))[: self.config.neighbours]
                extra = {int(r) for j in nearest for r in self.own[self.item_names[j]]} - set(own.tolist())
                rows = np.concatenate([own, np.array(sorted(extra), dtype=np.int64)])
            self._candidates[item] = (rows, len(own))
        return self._candidates[item]

    # -- answering (requests are checked by _ReferenceExplainer._check) ----------------------------
    def _choose(self, rows: np.ndarray, n_own: int, query: list[str]) -> str:
        """The candidate with the best BM25 score for query; ties: own sentences first, then row order
        (alphabetical)."""
        scores = np.asarray(self.bm25.get_batch_scores(query, rows.tolist()), dtype=np.float64)
        own_first = np.r_[np.zeros(n_own), np.ones(len(rows) - n_own)]
        best = np.lexsort((rows, own_first, -scores))[0]
        return self.sentences[int(rows[best])]

    def explain(self, requests: Sequence[ExplainRequest]) -> list[Explanation]:
        for request in requests:  # every request is checked before any is answered
            self._check(request)
        out = []
        everything = np.arange(len(self.sentences), dtype=np.int64)
        for request in requests:
            user_words = self.user_words.get(request.user_id)
            if request.item_id not in self.items:  # fallback: the user's best sentence overall
                text = self.sentences[0]
                if user_words is not None:
                    text = self._choose(everything, len(everything), user_words)
                out.append(Explanation(text=text))
                continue
            rows, n_own = self.candidates(request.item_id)
            if user_words is None:  # fallback: the sentence that best matches the item's own words
                user_words = self.item_words[self.item_index[request.item_id]]
            query = user_words
            out.append(Explanation(text=self._choose(rows, n_own, query)))
        return out

    # -- persistence: _ReferenceExplainer's save/load with the training triples as the state -----------
    def _state(self) -> dict[str, Any]:
        return {"records": self.records}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.records = [tuple(r) for r in state["records"]]
        self._index()
