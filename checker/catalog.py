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

# name: (HBM bytes/s, matmul share of peak or None, share of HBM bandwidth element-wise kernels
# reach or None). HBM bandwidths from the datasheets (spec/semantics.md lists each source).
# The A100's two shares are the profile fitted on Korthikanti et al.'s eight published step
# times and nothing else (scripts/validate_training.py --fit; the third fitted number, the
# share of NVLink bandwidth reached, 60 %, belongs to the network: `domain_efficiency`). The
# H100's matmul share is its documented GEMM share (794.5 of 989 TFLOP/s) scaled as the A100's
# fit scales its own (76 % of a documented 271.2 / 312); the H200 has the H100's die. Classes
# with no validated profile have none: a spec gives `matmul` (or the workload `efficiency`).
PROFILE: dict[str, tuple[Fraction, Fraction | None, Fraction | None]] = {
    "A100": (Fraction(2039 * G), Fraction(76, 100), Fraction(70, 100)),
    "H100": (Fraction(3350 * G), Fraction(76, 100) / Fraction("271.2") * 312 * Fraction("794.5") / 989, Fraction(70, 100)),
    "H200": (Fraction(4800 * G), Fraction(76, 100) / Fraction("271.2") * 312 * Fraction("794.5") / 989, Fraction(70, 100)),
    "B200": (Fraction(8000 * G), None, None),
    "GB200": (Fraction(8000 * G), None, None),
    "MI300X": (Fraction(5300 * G), None, None),
}
