"""MVAE as an ExplainerModule: the training architecture (Fig. 2a) and the test architecture (Fig. 2b).

    training    z_j = r_zj ~ q_theta_j(z | x)   L = L_rec + L_MLF                      (eqs. 3, 7, 9, 10)
    validation  z_j = mu_pzj                    L = L_rec, recognition network never called
    decoding    z_j = mu_pzj                    GPT-2 from [T1, T2] with its key/value cache

The variants switch one thing each (config.py): no beta term (mvae-nokl), only the smallest scale
(mvae-nomlf), the test architecture in training as well (mvae-norn), z = mu_r and MSE(mu_r, mu_p)
instead of samples and TKL (mvae-mse).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch.nn.functional import mse_loss

from explainbench.data.vocab import Vocab
from explainbench.engine.dropout import use_engine_dropout
from explainbench.engine.losses import token_nll
from explainbench.engine.module import Batch, ExplainerModule, NeuralConfig, StepLoss
from explainbench.engine.neural import NeuralExplainer
from explainbench.models.mvae.config import (
    MVAEConfig,
    MVAEMSEConfig,
    MVAENoKLConfig,
    MVAENoMLFConfig,
    MVAENoRNConfig,
)
from explainbench.models.mvae.networks import (
    GPTDecoder,
    PriorNetwork,
    RecognitionNetwork,
    ReconstructionNetwork,
)
from explainbench.models.mvae.tkl import DiagonalGaussian, annealed_beta, tkl_terms


class MVAEModule(ExplainerModule):
    """Recognition, prior and reconstruction networks with a GPT-2 decoder (paper section 3)."""

    def __init__(self, config: MVAEConfig, vocab: Vocab, n_users: int, n_items: int) -> None:
        super().__init__()
        config.validate()
        self.config = config
        self.vocab = vocab
        max_tokens = config.max_words + 2  # <bos> w_1..w_T <eos>
        max_positions = GPTDecoder.n_prefix + max(max_tokens, config.gen_max_len + 1)
        self.decoder = GPTDecoder(config, vocab, max_positions)
        self.prior = PriorNetwork(config, n_users, n_items)
        self.recognition: RecognitionNetwork | None = (
            RecognitionNetwork(config, max_tokens) if config.recognition else None
        )
        self.reconstruction = ReconstructionNetwork(config)
        use_engine_dropout(self)  # GPT-2's and the encoder layers' masks drawn the engine's cheaper way

    # --- pieces -------------------------------------------------------------------------------------

    def sentiment(self, batch: Batch) -> torch.Tensor:
        """E_r's index: 1 when rating >= 3 ("we map a rating greater than or equal to 3 to positive")."""
        return (batch.rating >= self.config.sentiment_threshold).long()

    def beta(self) -> float:
        """beta' at the current training step (eq. 11)."""
        c = self.config
        return annealed_beta(self.schedule_step, c.beta, c.anneal_k, c.anneal_a0)  # on the schedule's clock

    def used_scales(self) -> list[bool]:
        """Which scales carry a distribution: all (MLF) or only the smallest (mvae-nomlf)."""
        n = self.config.n_scale
        return [True] * n if self.config.multi_scale else [s == n - 1 for s in range(n)]

    def prior_distributions(self, batch: Batch) -> tuple[list[DiagonalGaussian], torch.Tensor]:
        """q_phi_j(z | E') finest first, and E'_{n_pd+n_ps} (eq. 4)."""
        return self.prior(batch.user, batch.item, self.sentiment(batch))

    def recognition_distributions(self, batch: Batch) -> list[DiagonalGaussian]:
        """q_theta_j(z | x) finest first (eqs. 2-3) from the explanation tokens w_1..w_T <eos>."""
        if self.recognition is None:
            raise RuntimeError("this MVAE has no recognition network (mvae-norn, or removed after training)")
        tokens = batch.text[:, 1:]
        return self.recognition(self.decoder.word_embeddings(tokens), tokens.eq(self.vocab.pad_id))

    def reconstruction_nll(
        self, batch: Batch, h_0: torch.Tensor, z: list[torch.Tensor | None]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """L_rec of eq. 9 (summed over words, averaged over the batch) and the per-word mean."""
        t_1, t_2 = self.reconstruction(h_0, z)
        inputs, targets = batch.text[:, :-1], batch.text[:, 1:]
        logits = self.decoder.teacher_forced_logits(t_1, t_2, inputs)
        # sum over words of -log p(w_t | ...), in float32 blocks (engine/losses.py)
        nll = token_nll(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), self.vocab.pad_id).sum()
        n_words = targets.ne(self.vocab.pad_id).sum().clamp(min=1)
        return nll / targets.shape[0], nll.detach() / n_words

    def test_latents(self, prior: list[DiagonalGaussian]) -> list[torch.Tensor | None]:
        """The test architecture's z_j = mu_pzj (Fig. 2b), on the scales in use."""
        return [p.mu if used else None for p, used in zip(prior, self.used_scales(), strict=True)]

    # --- ExplainerModule ------------------------------------------------------------------------------

    def loss(self, batch: Batch) -> StepLoss:
        """L = L_rec + L_MLF (eq. 10) in the training architecture (Fig. 2a); parts: each term by scale."""
        c = self.config
        prior, h_0 = self.prior_distributions(batch)
        if not c.recognition:  # mvae-norn: trained in the test architecture, L = L_rec
            nll, nll_word = self.reconstruction_nll(batch, h_0, self.test_latents(prior))
            return StepLoss(total=nll, parts={"nll": nll, "nll_word": nll_word})

        recognition = self.recognition_distributions(batch)
        beta = self.beta()
        parts: dict[str, torch.Tensor] = {}
        z: list[torch.Tensor | None] = []
        latent_terms: list[torch.Tensor] = []
        for s, (q_r, q_p, used) in enumerate(zip(recognition, prior, self.used_scales(), strict=True)):
            if not used:  # mvae-nomlf: no distribution at this scale, nothing added to H'
                z.append(None)
            elif c.latent_objective == "mse":  # mvae-mse: z = mu_r, MSE(mu_r, mu_p) instead of TKL
                z.append(q_r.mu)
                target = q_r.mu.detach() if c.track_target else q_r.mu
                parts[f"mse_s{s}"] = mse_loss(target, q_p.mu)
                latent_terms.append(parts[f"mse_s{s}"])
            else:  # z = r_z sampled from q_theta; TKL (eq. 6)
                z.append(q_r.sample())
                terms = tkl_terms(q_r, q_p, c.track_target)
                parts[f"kl_prior_s{s}"] = terms.kl_prior
                if c.standard_kl:
                    parts[f"kl_std_s{s}"] = terms.kl_std
                latent_terms.append(terms.total(beta, c.standard_kl))
        latent_loss = torch.stack(latent_terms).sum()  # L_MLF (eq. 7), or the sum of MSEs
        parts["mlf" if c.latent_objective == "tkl" else "mse"] = latent_loss
        if c.latent_objective == "tkl" and c.standard_kl:
            parts["beta"] = torch.tensor(beta)
        nll, nll_word = self.reconstruction_nll(batch, h_0, z)
        parts["nll"] = nll
        parts["nll_word"] = nll_word
        return StepLoss(total=nll + latent_loss, parts=parts)

    def validation_loss(self, batch: Batch) -> StepLoss:
        """L_rec in the test architecture (Fig. 2b): z_j = mu_pzj; the recognition network is not called."""
        prior, h_0 = self.prior_distributions(batch)
        nll, nll_word = self.reconstruction_nll(batch, h_0, self.test_latents(prior))
        return StepLoss(total=nll, parts={"nll": nll, "nll_word": nll_word})

    def start_decoding(self, batch: Batch) -> object:
        """Prior -> mu_p -> reconstruction -> [T1, T2] through GPT-2; the state is GPT-2's key/value cache."""
        prior, h_0 = self.prior_distributions(batch)
        t_1, t_2 = self.reconstruction(h_0, self.test_latents(prior))
        return self.decoder.start(t_1, t_2)

    def decode_step(self, state: object, previous: torch.Tensor) -> tuple[torch.Tensor, object]:
        return self.decoder.step(state, previous)

    def drop_recognition(self) -> None:
        """Remove the recognition network: the test architecture does not need it (used by tests)."""
        self.recognition = None


class MVAE(NeuralExplainer):
    """MVAE (the paper's model): the engine trains it, decodes it greedily from mu_p, saves and loads it."""

    name: ClassVar[str] = "mvae"
    config_class: ClassVar[type[NeuralConfig]] = MVAEConfig
    config: MVAEConfig

    def build_module(self, vocab: Vocab, n_users: int, n_items: int) -> MVAEModule:
        return MVAEModule(self.config, vocab, n_users, n_items)


class MVAENoKL(MVAE):
    """MVAE-NoKL (Table 3): TKL without the beta KL(q_r || N(0, I)) term."""

    name: ClassVar[str] = "mvae-nokl"
    config_class: ClassVar[type[NeuralConfig]] = MVAENoKLConfig


class MVAENoMLF(MVAE):
    """MVAE-NoMLF (Table 3): only the smallest scale's distribution is kept."""

    name: ClassVar[str] = "mvae-nomlf"
    config_class: ClassVar[type[NeuralConfig]] = MVAENoMLFConfig


class MVAENoRN(MVAE):
    """MVAE-NoRN (section 4.8): no recognition network; trained in the test architecture."""

    name: ClassVar[str] = "mvae-norn"
    config_class: ClassVar[type[NeuralConfig]] = MVAENoRNConfig


class MVAEMSE(MVAE):
    """Section 4.8's z = mu_r variant: MSE(mu_r, mu_p) at each scale instead of TKL, no sampling."""

    name: ClassVar[str] = "mvae-mse"
    config_class: ClassVar[type[NeuralConfig]] = MVAEMSEConfig
