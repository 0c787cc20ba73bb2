"""The representation transformation module of eq. 1 ("Block"), used by all three MVAE networks.

    f_{dx,dy}(x) = SN(W_{dx x dy} GELU(x) + b)
    T_{d1,d2,d3}(x) = f_{d2,d3} o f_{d2,d2} o f_{d1,d2} o f_{d1,d1}
    x' = LayerNorm(T_{d1,d2,d3}(x) + x)
    y = f_{d3,d4}(x')

The residual T(x) + x needs T's output to be the size of its input, so d3 = d1: T is a residual
transformation at the input size (through a width d2), and the final f_{d3,d4} changes the size (it
halves it in BlockRd/BlockPd, doubles it in BlockD). SN (Miyato et al.'s spectral normalisation, which the
paper cites as Yoshida & Miyato 2017) rescales the weight W, as torch's parametrization does; b is not
normalised.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.functional import gelu
from torch.nn.utils.parametrizations import spectral_norm

from explainbench.engine.packed import PackCache, PackedLinear, packing_applies


class SpectralLayer(nn.Module):
    """f_{dx,dy}(x) = SN(W GELU(x) + b): pre-activation GELU, then a spectrally normalised affine map.

    b starts at zero (the paper gives no initialisation). torch's default bias is uniform in
    +-1/sqrt(d_x), an input-independent offset of the order of the signal for the small sizes (3..24) of
    the latent end; 7 + 7 Blocks of contracting (spectral norm <= 1) maps accumulate these offsets, and at
    initialisation [T1, T2] varied across inputs by 5% of their magnitude (30% with zero biases:
    docs/models/mvae.md, "Diagnosis").

    Decoding under bf16 autocast on the CPU (eval mode, no autograd) applies SN(W) prepacked
    (engine/packed.py): the normalised weight W / sigma(W) is computed and packed once per version of W,
    b and the power iteration's vectors, instead of once per call.
    """

    def __init__(self, d_x: int, d_y: int) -> None:
        super().__init__()
        linear = nn.Linear(d_x, d_y)
        nn.init.zeros_(linear.bias)
        self.linear = spectral_norm(linear)
        self._packed: PackCache[PackedLinear] = PackCache()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training and packing_applies(x.device):
            return self.packed(rows=x.shape[0])(gelu(x))
        return self.linear(gelu(x))

    def packed(self, rows: int) -> PackedLinear:
        """SN(W) and b prepacked for the current weights (in eval mode sigma does not move)."""
        return self._packed.get(
            [*self.parameters(), *self.buffers()],
            lambda: PackedLinear.pack(self.linear.weight, self.linear.bias, rows),
        )


class Block(nn.Module):
    """Block(x) of eq. 1: y = f_{d3,d4}(LayerNorm(T_{d1,d2,d3}(x) + x)) with d1 = d3 = d_in, d4 = d_out.

    d_hidden is d2, the width inside T; None takes d_out (the size the Block compresses or expands to).
    """

    def __init__(self, d_in: int, d_out: int, d_hidden: int | None = None) -> None:
        super().__init__()
        d1 = d3 = d_in
        d2 = d_hidden if d_hidden is not None else d_out
        self.d_in, self.d_out = d_in, d_out
        self.T = nn.Sequential(
            SpectralLayer(d1, d1),
            SpectralLayer(d1, d2),
            SpectralLayer(d2, d2),
            SpectralLayer(d2, d3),
        )
        self.layer_norm = nn.LayerNorm(d1)
        self.f_out = SpectralLayer(d3, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_prime = self.layer_norm(self.T(x) + x)
        return self.f_out(x_prime)


class ScaleBlock(nn.Module):
    """BlockRs_j / BlockPs_j of eqs. 3-4: mu_zj, logvar_zj, C'_j = Block(C'_{j-1}).

    "its output is split into equal-sized partitions if the output is assigned to more than one variable":
    the Block outputs 3 * d_z values, split into mean, log-variance (the paper's "sigma ... is the
    variance", parameterised as its logarithm) and the state carried to the next scale, each of size
    d_z = d_in / 2. logvar_init is the initial bias of the log-variance partition (the paper gives no
    initialisation; MVAEConfig.recognition_logvar_init explains the recognition network's value).
    """

    def __init__(self, d_in: int, d_hidden: int | None = None, logvar_init: float = 0.0) -> None:
        super().__init__()
        if d_in % 2:
            raise ValueError(f"a scale Block halves its input; got odd size {d_in}")
        self.d_z = d_in // 2
        self.block = Block(d_in, 3 * self.d_z, d_hidden if d_hidden is not None else self.d_z)
        # the log-variance partition's bias: the distribution's initial variance is about exp(logvar_init)
        with torch.no_grad():
            self.block.f_out.linear.bias[self.d_z : 2 * self.d_z] = logvar_init

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar, state = self.block(x).chunk(3, dim=-1)
        return mu, logvar, state
