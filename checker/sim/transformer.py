"""The work and memory of one transformer layer under Megatron-style parallelism, counted exactly.

A decoder-only transformer (Narayanan et al. SC21, section 3.3; Korthikanti et al. 2022,
arXiv:2205.05198, sections 3-5) split t ways by tensor parallelism (optionally with sequence
parallelism), c ways by context parallelism, p ways by pipeline parallelism (v chunks per
device). Everything here is counted per GPU and per microbatch of b sequences; nothing is
timed here (see `megatron.py`). The counts are the papers' generalised to grouped-query
attention (kv heads) and gated MLPs (three matrices), which reduce to the papers' forms for
kv = a and a 4h GeLU MLP; the tests hold them to those forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Model", "Layout", "layer_params", "layer_flops", "attention_flops",
           "layer_bytes", "score_bytes", "layer_activations", "logit_flops",
           "state_bytes_per_param", "in_flight_chunks", "RECOMPUTE", "ZERO"]

RECOMPUTE = ("none", "selective", "full")
ZERO = (0, 1, 2, 3)  # 0: plain data parallel (all-reduce); 1: distributed optimizer; 2, 3: ZeRO


@dataclass(frozen=True, slots=True)
class Model:
    """layers l, hidden h, heads a, kv_heads (0: a), ffn (0: 4h), gated MLP, seq s, vocab V."""

    layers: int
    hidden: int
    heads: int
    seq: int
    vocab: int
    kv_heads: int = 0
    ffn: int = 0
    gated: bool = False

    @property
    def kv(self) -> int:
        return self.kv_heads or self.heads

    @property
    def f(self) -> int:
        return self.ffn or 4 * self.hidden


@dataclass(frozen=True, slots=True)
class Layout:
    """t, p, d, c ways; v chunks per device; microbatch b and global batch B (sequences);
    sp: sequence parallelism; recompute: none/selective/full; zero: 0-3 (see ZERO);
    flash: fused (flash) attention, causal blocks skipped and no s x s tensors in memory."""

    t: int
    p: int
    d: int
    micro: int
    batch: int
    c: int = 1
    v: int = 1
    sp: bool = True
    recompute: str = "selective"
    zero: int = 1
    flash: bool = False

    @property
    def gpus(self) -> int:
        return self.t * self.p * self.d * self.c

    @property
    def microbatches(self) -> int:
        """m: microbatches per pipeline per step, B / (d b)."""
        return self.batch // (self.d * self.micro)


def check(model: Model, layout: Layout) -> None:
    """The layout must divide the model evenly (integers fixed by the spec)."""
    m, x = model, layout
    if min(m.layers, m.hidden, m.heads, m.seq, m.vocab, m.kv, m.f) < 1:
        raise ValueError("model sizes must be >= 1")
    if min(x.t, x.p, x.d, x.c, x.v, x.micro, x.batch) < 1:
        raise ValueError("parallel sizes, microbatch and batch must be >= 1")
    if x.recompute not in RECOMPUTE or x.zero not in ZERO:
        raise ValueError(f"recompute must be one of {RECOMPUTE}, zero one of {ZERO}")
    if m.heads % x.t or m.heads % m.kv or m.hidden % m.heads:
        raise ValueError("need heads % t == 0, heads % kv_heads == 0, hidden % heads == 0")
    if m.layers % (x.p * x.v) or m.seq % x.c or x.batch % (x.d * x.micro):
        raise ValueError("need l % (p v) == 0, s % c == 0 and B % (d b) == 0")
    if x.v > 1 and (x.p == 1 or x.microbatches % x.p):
        raise ValueError("interleaving needs p > 1 and m a multiple of p")


def _kv_share(model: Model) -> Fraction:
    return Fraction(model.kv, model.heads)


def layer_params(model: Model, layout: Layout) -> Fraction:
    """Weight-matrix parameters of one layer on one GPU: Q, K, V, projection and the MLP's
    two (or three, gated) matrices, split t ways. Biases and norms (O(h)) are left out, as in
    Korthikanti et al.'s 12 l h^2 count."""
    h, f = model.hidden, model.f
    attention = h * h * (2 + 2 * _kv_share(model))
    mlp = (3 if model.gated else 2) * h * f
    return (attention + mlp) / layout.t


def layer_flops(model: Model, layout: Layout) -> Fraction:
    """Forward matmul FLOPs of one layer, one microbatch, one GPU, outside the attention core:
    2 FLOPs per multiply-add, b (s/c) tokens times the layer's matrices (SC21 eq. 3: 24 b s h^2
    per layer for the GPT shape)."""
    tokens = layout.micro * Fraction(model.seq, layout.c)
    return 2 * tokens * layer_params(model, layout)


def attention_flops(model: Model, layout: Layout) -> Fraction:
    """Forward FLOPs of the attention core Q K^T and softmax . V: 4 b s h (s/c) / t, halved when
    the fused kernel skips the causal mask's empty blocks (flash)."""
    full = 4 * layout.micro * Fraction(model.seq, layout.c) * model.seq * model.hidden
    return full / layout.t / (2 if layout.flash else 1)


def logit_flops(model: Model, layout: Layout) -> Fraction:
    """Forward FLOPs of the output layer (logits): 2 b (s/c) h V / t, on the last stage."""
    return 2 * layout.micro * Fraction(model.seq, layout.c) * model.hidden * model.vocab / layout.t


def _tokens_h(model: Model, layout: Layout) -> Fraction:
    """s b h for this GPU's sequence share: the element count of one activation tensor."""
    return layout.micro * Fraction(model.seq, layout.c) * model.hidden


def layer_bytes(model: Model, layout: Layout) -> Fraction:
    """HBM bytes the forward element-wise work of one layer moves (bf16, 2 bytes), outside the
    attention scores (`score_bytes`). Each op reads its inputs and writes its output once:
    two layer norms (read, write: 4 sbh each), two bias-dropout-residual adds (read two, write
    one, write a 1-byte mask: 7 sbh each), the MLP activation (read, write: 4 sbf; gated: read
    two, write one: 6 sbf) and, with flash attention, the fused kernel's Q, K, V in and O out.
    The layer-norm and dropout regions are replicated on the t GPUs without sequence
    parallelism and split t ways with it."""
    e = _tokens_h(model, layout)
    outside = Fraction(22) * e / (layout.t if layout.sp else 1)
    f = Fraction(model.f, model.hidden)
    mlp = (6 if model.gated else 4) * f * e / layout.t
    flash = (4 + 4 * _kv_share(model)) * e / layout.t if layout.flash else Fraction(0)
    return outside + mlp + flash


def score_bytes(model: Model, layout: Layout) -> Fraction:
    """HBM bytes of the attention-score element-wise ops (unfused attention): the fused
    scale-mask-softmax reads and writes a b s^2/t bf16 values (4 bytes each), the dropout reads
    them, writes them and a 1-byte mask (5 bytes): 9 a b s (s/c) / t. Zero with flash."""
    if layout.flash:
        return Fraction(0)
    return Fraction(9 * model.heads * layout.micro * model.seq * model.seq, layout.c * layout.t)


def layer_activations(model: Model, layout: Layout) -> Fraction:
    """Bytes one layer keeps for the backward pass, one microbatch (Korthikanti Table 2).

    With kv = a and a 4h GeLU MLP: sbh(10 + 24/t + 5as/(ht)) with tensor parallelism,
    sbh/t (34 + 5as/h) adding sequence parallelism, 34 sbh/t with selective recomputation,
    2 sbh (/t with sp) with full recomputation. General form: 10 sbh replicated (layer-norm
    inputs 4, QKV and MLP inputs 4, dropout masks 2), 2 + 4 kv/a + 2 + (4 or 6) f/h split t
    ways (Q, K, V, projection input, MLP activations) and 5 a s^2 b / t for the scores.
    """
    e = _tokens_h(model, layout)
    r = layout.t if layout.sp else 1
    if layout.recompute == "full":
        return 2 * e / r
    f = Fraction(model.f, model.hidden)
    split = 4 + 4 * _kv_share(model) + (6 if model.gated else 4) * f
    kept = 10 * e / r + split * e / layout.t
    if layout.recompute == "none" and not layout.flash:
        kept += Fraction(5 * model.heads * layout.micro * model.seq * model.seq,
                         layout.c * layout.t)
    return kept


def state_bytes_per_param(layout: Layout) -> Fraction:
    """Mixed-precision Adam state per parameter after sharding: 2 (bf16 weight) + 4 (fp32
    gradient) + 12 (fp32 master, two moments) = 18 bytes (Korthikanti et al. section 6);
    ZeRO stage k shards the optimizer (k >= 1), gradients (k >= 2), weights (k = 3) over the
    d c data-parallel ranks (Rajbhandari et al. SC20; Megatron's distributed optimizer is 1)."""
    n = layout.d * layout.c
    weights, grads, optimizer = Fraction(2), Fraction(4), Fraction(12)
    if layout.zero >= 1:
        optimizer /= n
    if layout.zero >= 2:
        grads /= n
    if layout.zero >= 3:
        weights /= n
    return weights + grads + optimizer


def in_flight_chunks(order: tuple[tuple[int, int, int], ...]) -> int:
    """Peak number of chunk-microbatches whose activations a device holds at once, counted by
    walking its schedule (a forward stores, a backward frees): p for stage 0 of 1F1B, and
    p v + p - 1 chunks of l/(p v) layers for interleaving, i.e. Korthikanti's factor
    1 + (p-1)/(p v) (appendix)."""
    held = peak = 0
    for kind, _, _ in order:
        held += 1 if kind == 0 else -1
        peak = max(peak, held)
    return peak
