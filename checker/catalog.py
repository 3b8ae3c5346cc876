"""Built-in GPU classes, usable by name in a pool without a ``gpu`` block.

Dense BF16 tensor-core peak (no sparsity), memory and board power, per GPU, from the vendors'
public datasheets; spec/semantics.md lists each source. A spec's own ``gpu`` block of the same
name always wins. The catalog carries no idle power, floor or ramp: a spec that reasons about
power swings writes its own ``gpu`` block.
"""

from __future__ import annotations

from fractions import Fraction

T = 10**12
G = 10**9

# name: (peak FLOP/s, memory B, tdp W, what it is)
CATALOG: dict[str, tuple[Fraction, Fraction, Fraction, str]] = {
    "A100": (Fraction(312 * T), Fraction(80 * G), Fraction(400), "NVIDIA A100 SXM 80 GB"),
    "H100": (Fraction(989 * T), Fraction(80 * G), Fraction(700), "NVIDIA H100 SXM5"),
    "H200": (Fraction(989 * T), Fraction(141 * G), Fraction(700), "NVIDIA H200 SXM"),
    "B200": (Fraction(2250 * T), Fraction(180 * G), Fraction(1000), "NVIDIA B200 (HGX B200)"),
    "GB200": (Fraction(2500 * T), Fraction(186 * G), Fraction(1200), "NVIDIA GB200, per Blackwell GPU (NVL72)"),
    "MI300X": (Fraction("1307.4") * T, Fraction(192 * G), Fraction(750), "AMD Instinct MI300X"),
}
