"""Records -> tensors -> Batches: encode a split once, then iterate over seeded mini-batches.

Text is laid out as the references do (PETER's `sentence_format`): `<bos> w1 .. wT <eos>` padded with
`<pad>` to max_words + 2 columns, keeping the first max_words words. A Batch is trimmed to its longest
row (trailing all-pad columns dropped): every model masks `<pad>`, so this changes no loss, only the cost.

Training order is a permutation drawn from a torch.Generator seeded with seed + epoch, so epoch e has the
same order whether the run was interrupted before it or not (exact resume). The references shuffle with
Python's unseeded `random`; see docs/engine.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from explainbench.api.explainer import ExplainRequest, RequestError
from explainbench.engine.module import Batch

if TYPE_CHECKING:  # pragma: no cover
    import datasets

    from explainbench.data.tokenizer import ExplanationTokenizer


ENCODE_CHUNK = 65_536  # records read and encoded at a time


@dataclass
class IdMaps:
    """Dense indices for the users and items of the training split (in order of first appearance)."""

    users: list[str]
    items: list[str]
    _user_index: dict[str, int] = field(init=False, repr=False)
    _item_index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._user_index = {u: i for i, u in enumerate(self.users)}
        self._item_index = {v: i for i, v in enumerate(self.items)}
        if len(self._user_index) != len(self.users) or len(self._item_index) != len(self.items):
            raise ValueError("id maps hold a duplicated user or item id")

    @classmethod
    def from_dataset(cls, train: datasets.Dataset) -> IdMaps:
        """Users and items in order of first appearance, read a chunk of records at a time (Arrow's
        unique keeps that order within a chunk), never as one list of every record."""
        users: dict[str, None] = {}
        items: dict[str, None] = {}
        for chunk in train.select_columns(["user_id", "item_id"]).with_format("arrow").iter(ENCODE_CHUNK):
            users.update(dict.fromkeys(str(u) for u in chunk.column("user_id").unique().to_pylist()))
            items.update(dict.fromkeys(str(i) for i in chunk.column("item_id").unique().to_pylist()))
        return cls(users=list(users), items=list(items))

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def user(self, user_id: str) -> int | None:
        return self._user_index.get(user_id)

    def item(self, item_id: str) -> int | None:
        return self._item_index.get(item_id)

    def to_dict(self) -> dict[str, list[str]]:
        return {"users": list(self.users), "items": list(self.items)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IdMaps:
        return cls(users=[str(u) for u in d["users"]], items=[str(i) for i in d["items"]])


def format_text(
    word_ids: Sequence[int], *, max_words: int, bos_id: int, eos_id: int, pad_id: int
) -> list[int]:
    """`<bos> w1 .. wT <eos> <pad>..` with T <= max_words, always max_words + 2 long (PETER's layout)."""
    words = list(word_ids)[:max_words]
    return [bos_id, *words, eos_id] + [pad_id] * (max_words - len(words))


def sentiment_label(label: int | None, rating: float) -> int:
    """1 positive / 0 negative: the record's +1/-1 label where it has one, else rating >= 3."""
    if label is not None and int(label) != 0:
        return 1 if int(label) > 0 else 0
    return 1 if rating >= 3.0 else 0


def feature_id(tokenizer: ExplanationTokenizer, feature: str | None) -> int:
    """Vocabulary id of a feature; `<unk>` for an empty or out-of-vocabulary feature.

    A multi-word feature ("front desk") is one token in PETER's vocabulary but several words in the
    shared tokenizer; it is represented by its last word, the head of an English noun compound.
    """
    if not feature:
        return tokenizer.unk_id
    idx = tokenizer.token_to_id(feature)
    if idx is None or idx == tokenizer.unk_id:
        words = tokenizer.words(feature) if hasattr(tokenizer, "words") else feature.split()
        if len(words) > 1:
            idx = tokenizer.token_to_id(words[-1])
    return tokenizer.unk_id if idx is None else int(idx)


@dataclass
class EncodedRecords:
    """A split as tensors, encoded once (row r of every tensor is record r of the kept records)."""

    user: torch.Tensor  # long [N]
    item: torch.Tensor  # long [N]
    rating: torch.Tensor  # float [N]
    sentiment: torch.Tensor  # long [N]
    feature: torch.Tensor  # long [N]
    text: torch.Tensor  # long [N, max_words + 2]
    pad_id: int
    dropped: int = 0  # records skipped because their user or item is not in the training split
    # per row: 1 + the column of its last non-pad token (0 for an all-pad row); computed once per split
    widths: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        columns = torch.arange(1, self.text.shape[1] + 1, dtype=torch.long)
        self.widths = ((self.text != self.pad_id).long() * columns).amax(dim=1)

    def __len__(self) -> int:
        return int(self.user.shape[0])

    def batch(self, index: torch.Tensor) -> Batch:
        """The rows at index as a Batch, text trimmed to the longest row (at least one column)."""
        width = max(1, int(self.widths[index].max())) if len(index) else 1
        text = self.text[index]
        return Batch(
            user=self.user[index],
            item=self.item[index],
            rating=self.rating[index],
            sentiment=self.sentiment[index],
            feature=self.feature[index],
            text=text[:, :width].contiguous(),
        )


def encode_records(
    records: datasets.Dataset,
    tokenizer: ExplanationTokenizer,
    idmaps: IdMaps,
    *,
    max_words: int,
) -> EncodedRecords:
    """Encode canonical records; records whose user or item is unknown to idmaps are dropped (counted).

    The records are read ENCODE_CHUNK at a time (from the split's memory-mapped Arrow file) into
    tensors allocated once, so a split of millions of records never becomes Python lists of all of them.
    """
    n = len(records)
    width = max_words + 2
    user = torch.empty(n, dtype=torch.long)
    item = torch.empty(n, dtype=torch.long)
    rating = torch.empty(n, dtype=torch.float32)
    sentiment = torch.empty(n, dtype=torch.long)
    feature = torch.empty(n, dtype=torch.long)
    text = torch.empty((n, width), dtype=torch.long)
    has_feature = "feature" in records.column_names
    has_sentiment = "sentiment" in records.column_names
    batch_encode = getattr(tokenizer, "encode_batch", None)
    kept = dropped = 0
    for chunk in records.iter(ENCODE_CHUNK):
        texts = [x or "" for x in chunk["explanation"]]
        word_ids = batch_encode(texts) if batch_encode is not None else [tokenizer.encode(x) for x in texts]
        size = len(texts)
        features = chunk["feature"] if has_feature else [""] * size
        sentiments = chunk["sentiment"] if has_sentiment else [0] * size
        u_idx: list[int] = []
        i_idx: list[int] = []
        r: list[float] = []
        s: list[int] = []
        f: list[int] = []
        rows: list[list[int]] = []
        for user_id, item_id, value, ids, feat, senti in zip(
            chunk["user_id"], chunk["item_id"], chunk["rating"], word_ids, features, sentiments, strict=True
        ):
            u = idmaps.user(str(user_id))
            i = idmaps.item(str(item_id))
            if u is None or i is None:
                dropped += 1
                continue
            u_idx.append(u)
            i_idx.append(i)
            r.append(float(value))
            s.append(sentiment_label(senti, float(value)))
            f.append(feature_id(tokenizer, feat))
            rows.append(format_text(ids, max_words=max_words, bos_id=tokenizer.bos_id,
                                    eos_id=tokenizer.eos_id, pad_id=tokenizer.pad_id))
        if rows:
            end = kept + len(rows)
            user[kept:end] = torch.tensor(u_idx, dtype=torch.long)
            item[kept:end] = torch.tensor(i_idx, dtype=torch.long)
            rating[kept:end] = torch.tensor(r, dtype=torch.float32)
            sentiment[kept:end] = torch.tensor(s, dtype=torch.long)
            feature[kept:end] = torch.tensor(f, dtype=torch.long)
            text[kept:end] = torch.tensor(rows, dtype=torch.long).reshape(len(rows), width)
            kept = end
    return EncodedRecords(
        user=user[:kept].clone() if kept < n else user,
        item=item[:kept].clone() if kept < n else item,
        rating=rating[:kept].clone() if kept < n else rating,
        sentiment=sentiment[:kept].clone() if kept < n else sentiment,
        feature=feature[:kept].clone() if kept < n else feature,
        text=text[:kept].clone() if kept < n else text,
        pad_id=tokenizer.pad_id,
        dropped=dropped,
    )


def encode_requests(
    requests: Sequence[ExplainRequest],
    tokenizer: ExplanationTokenizer,
    idmaps: IdMaps,
    *,
    rating_range: tuple[float, float],
    takes_feature: bool,
    first_index: int = 0,
) -> Batch:
    """Requests -> Batch with text = `<bos>` only. Unknown ids, bad ratings, a missing feature: RequestError.

    first_index numbers the requests in error messages (the position in the caller's full list).
    """
    lo, hi = rating_range
    u_idx: list[int] = []
    i_idx: list[int] = []
    r: list[float] = []
    f: list[int] = []
    for n, req in enumerate(requests, start=first_index):
        u = idmaps.user(str(req.user_id))
        if u is None:
            raise RequestError(
                f"request {n}: unknown user_id {req.user_id!r}; this explainer knows the "
                f"{idmaps.n_users} users of its training split only"
            )
        i = idmaps.item(str(req.item_id))
        if i is None:
            raise RequestError(
                f"request {n}: unknown item_id {req.item_id!r}; this explainer knows the "
                f"{idmaps.n_items} items of its training split only"
            )
        try:
            rating = float(req.rating)
        except (TypeError, ValueError):
            raise RequestError(f"request {n}: rating {req.rating!r} is not a number") from None
        if not math.isfinite(rating) or not lo <= rating <= hi:
            raise RequestError(
                f"request {n}: rating {req.rating!r} is outside the rating range [{lo}, {hi}]"
            )
        if takes_feature and not req.feature:
            raise RequestError(
                f"request {n}: this explainer takes the ground-truth feature; "
                "pass ExplainRequest(feature=...)"
            )
        u_idx.append(u)
        i_idx.append(i)
        r.append(rating)
        f.append(feature_id(tokenizer, req.feature))
    b = len(u_idx)
    return Batch(
        user=torch.tensor(u_idx, dtype=torch.long),
        item=torch.tensor(i_idx, dtype=torch.long),
        rating=torch.tensor(r, dtype=torch.float32),
        sentiment=torch.tensor([sentiment_label(None, x) for x in r], dtype=torch.long),
        feature=torch.tensor(f, dtype=torch.long),
        text=torch.full((b, 1), tokenizer.bos_id, dtype=torch.long),
    )


def epoch_permutation(n: int, *, seed: int, epoch: int) -> torch.Tensor:
    """The training order of epoch `epoch`: a permutation from torch.Generator seeded with seed + epoch."""
    gen = torch.Generator()
    gen.manual_seed(int(seed) + int(epoch))
    return torch.randperm(n, generator=gen)


class BatchLoader:
    """Iterable of Batches over encoded records; len() is the number of batches (progress bars, ETA).

    order=None keeps record order (validation, test); otherwise a permutation of range(len(records)).
    """

    def __init__(
        self, records: EncodedRecords, batch_size: int, order: torch.Tensor | None = None
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.records = records
        self.batch_size = batch_size
        self.order = order if order is not None else torch.arange(len(records))

    def __len__(self) -> int:
        return math.ceil(len(self.records) / self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        for start in range(0, len(self.records), self.batch_size):
            yield self.records.batch(self.order[start : start + self.batch_size])


def train_loader(records: EncodedRecords, *, batch_size: int, seed: int, epoch: int) -> BatchLoader:
    """Shuffled batches for one training epoch (see epoch_permutation)."""
    return BatchLoader(records, batch_size, epoch_permutation(len(records), seed=seed, epoch=epoch))


def eval_loader(records: EncodedRecords, *, batch_size: int) -> BatchLoader:
    """Batches in record order."""
    return BatchLoader(records, batch_size)
