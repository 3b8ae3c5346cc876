"""The harmonics of a periodic power trace, by a Fourier sum over its phases, in exact
rational intervals (no floats, no math module).

π comes from Machin's formula, π = 16·atan(1/5) − 4·atan(1/239), each arctangent's
alternating series cut where its next term bounds the rest. sin and cos of 2π·r (r rational)
are reduced exactly to a quarter turn, 2π·r = q·π/2 + z with z in [0, π/2), and summed by
Taylor series with the Lagrange remainder |z|^(n+1)/(n+1)! as the error. Every interval is
rounded outward to a grid of 2^-GRID_BITS so the numbers stay small. The kernel with a
CrossHair contract is `outward` (its rounding never moves an endpoint inward).
"""

from __future__ import annotations

from fractions import Fraction

from .exact import as_fraction

__all__ = ["outward", "pi_interval", "turn", "harmonic", "band_harmonics", "band_peak"]

GRID_BITS = 100
TERMS = 40  # at most, of sin and cos; the sum stops once the remainder bound falls below 2^-(GRID_BITS+4)

Interval = tuple[Fraction, Fraction]


def outward(low_num: int, low_den: int, high_num: int, high_den: int, scale: int) -> tuple[int, int]:
    """Numerators on the grid 1/scale of an interval [low_num/low_den, high_num/high_den],
    rounded outward: the low end down, the high end up.

    pre: low_den > 0 and high_den > 0 and scale > 0
    pre: low_num * high_den <= high_num * low_den
    post: __return__[0] * low_den <= low_num * scale
    post: __return__[1] * high_den >= high_num * scale
    post: __return__[0] <= __return__[1]
    """
    return (low_num * scale) // low_den, -((-high_num * scale) // high_den)


def _round(x: Interval) -> Interval:
    lo, hi = outward(x[0].numerator, x[0].denominator, x[1].numerator, x[1].denominator, 2 ** GRID_BITS)
    return Fraction(lo, 2 ** GRID_BITS), Fraction(hi, 2 ** GRID_BITS)


def _add(a: Interval, b: Interval) -> Interval:
    return a[0] + b[0], a[1] + b[1]


def _mul(a: Interval, b: Interval) -> Interval:
    products = (a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1])
    return _round((min(products), max(products)))


def _scale(a: Interval, c: Fraction) -> Interval:
    return _round((a[0] * c, a[1] * c) if c >= 0 else (a[1] * c, a[0] * c))


def _atan_inverse(n: int) -> Interval:
    """atan(1/n) for n >= 2: an alternating series whose terms fall, so a partial sum and the
    next one bracket it."""
    total, k, term = Fraction(0), 0, Fraction(1, n)
    while term > Fraction(1, 2 ** (GRID_BITS + 8)):
        total += term if k % 2 == 0 else -term
        k += 1
        term = Fraction(1, (2 * k + 1) * n ** (2 * k + 1))
    after = total + (term if k % 2 == 0 else -term)
    return min(total, after), max(total, after)


def pi_interval() -> Interval:
    """π by Machin's formula, an interval narrower than 2^-90."""
    a, b = _atan_inverse(5), _atan_inverse(239)
    return _round((16 * a[0] - 4 * b[1], 16 * a[1] - 4 * b[0]))


PI = pi_interval()


def _series(z: Interval, first: int) -> Interval:
    """Σ_{j} (−1)^j z^(first+2j)/(first+2j)! for z >= 0, with the Lagrange remainder. The
    endpoints are whole multiples of 2^-GRID_BITS held as integers, every product and
    quotient rounded outward by `outward`."""
    scale = 2 ** GRID_BITS
    z0, z1 = outward(z[0].numerator, z[0].denominator, z[1].numerator, z[1].denominator, scale)
    p0 = p1 = scale  # z^n, from n = 0
    for _ in range(first):
        p0, p1 = outward(p0 * z0, scale, p1 * z1, scale, 1)
    factorial = 1
    for n in range(2, first + 1):
        factorial *= n
    n, t0, t1 = first, 0, 0
    for j in range(TERMS):
        low, high = outward(p0, factorial, p1, factorial, 1)
        t0, t1 = (t0 + low, t1 + high) if j % 2 == 0 else (t0 - high, t1 - low)
        p0, p1 = outward(p0 * z0, scale, p1 * z1, scale, 1)
        p0, p1 = outward(p0 * z0, scale, p1 * z1, scale, 1)
        factorial *= (n + 1) * (n + 2)
        n += 2
        if p1 * 2 ** 4 < factorial:
            break  # the remainder below is already under the grid: more terms change nothing
    # the partial sum is the Taylor polynomial of degree n − 1 (its z^(n−1) coefficient is 0),
    # so the rest is within the Lagrange bound |z|^n / n!, every derivative being at most 1
    rest = -(-p1 // factorial)
    return Fraction(t0 - rest, scale), Fraction(t1 + rest, scale)


def turn(r: Fraction) -> tuple[Interval, Interval]:
    """(sin, cos) of 2π·r, as intervals."""
    r = as_fraction(r, "r") % 1
    quarter = int(r * 4)  # 0 .. 3, exact
    z = _scale(PI, 2 * (r - Fraction(quarter, 4)))  # in [0, π/2)
    z = (max(z[0], Fraction(0)), z[1])
    s, c = _series(z, 1), _series(z, 0)
    neg = lambda x: (-x[1], -x[0])  # noqa: E731
    return ((s, c), (c, neg(s)), (neg(s), neg(c)), (neg(c), s))[quarter]


def _square_low(x: Interval) -> Fraction:
    return Fraction(0) if x[0] <= 0 <= x[1] else min(x[0] ** 2, x[1] ** 2)


def _sqrt(x: Fraction, up: bool) -> Fraction:
    """A square root on the grid 2^-GRID_BITS, rounded down (or up)."""
    scale = 2 ** GRID_BITS
    target = x * scale * scale
    root = _isqrt(target.numerator // target.denominator)
    if up and root * root * target.denominator < target.numerator:
        root += 1
    return Fraction(root, scale)


def _isqrt(n: int) -> int:
    if n < 2:
        return n
    x = 1 << ((n.bit_length() + 1) // 2)
    while True:
        y = (x + n // x) // 2
        if y >= x:
            return x
        x = y


def harmonic(segments: tuple[tuple[Fraction, Fraction], ...], k: int) -> Interval:
    """The amplitude of the k-th harmonic (frequency k / period) of a periodic trace of
    (duration s, power W) phases: 2|c_k| = |Σ P (e^(−iθ1) − e^(−iθ0))| / (π k), θ = 2πk t / period."""
    if k < 1:
        raise ValueError("harmonics are numbered from 1")
    period = sum((as_fraction(d, "duration") for d, _ in segments), Fraction(0))
    if period <= 0:
        raise ValueError("the trace must last some time")
    re: Interval = (Fraction(0), Fraction(0))
    im: Interval = (Fraction(0), Fraction(0))
    t = Fraction(0)
    for duration, power in segments:
        (s0, c0), (s1, c1) = turn(k * t / period), turn(k * (t + duration) / period)
        # e^(−iθ) = cos θ − i sin θ: the phase adds P (cos θ1 − cos θ0) and −P (sin θ1 − sin θ0)
        re = _add(re, _scale((c1[0] - c0[1], c1[1] - c0[0]), power))
        im = _add(im, _scale((s0[0] - s1[1], s0[1] - s1[0]), power))
        t += duration
    low = _sqrt(_square_low(re) + _square_low(im), up=False)
    high = _sqrt(max(re[0] ** 2, re[1] ** 2) + max(im[0] ** 2, im[1] ** 2), up=True)
    return low / (PI[1] * k), high / (PI[0] * k)


def band_harmonics(segments: tuple[tuple[Fraction, Fraction], ...], low: Fraction | None,
                   high: Fraction | None) -> list[tuple[int, Interval]]:
    """Every harmonic whose frequency lies in [low, high] Hz (None: no limit on that side) and
    could still be the largest: above the best lower bound found, the envelope 2·(max − min) /
    (π k) of a trace's harmonics stops the count."""
    period = sum((as_fraction(d, "duration") for d, _ in segments), Fraction(0))
    powers = [p for _, p in segments]
    envelope = 2 * (max(powers) - min(powers)) / PI[0]
    k = 1 if low is None else max(1, -((-low * period).numerator // (low * period).denominator))
    found: list[tuple[int, Interval]] = []
    best = Fraction(0)
    while (high is None or k <= high * period) and (not found or envelope / k > best):
        amplitude = harmonic(segments, k)
        found.append((k, amplitude))
        best = max(best, amplitude[0])
        k += 1
    return found


def band_peak(segments: tuple[tuple[Fraction, Fraction], ...], low: Fraction | None,
              high: Fraction | None) -> Interval:
    """The largest harmonic amplitude in the band, as an interval (0 when none lies in it)."""
    found = band_harmonics(segments, low, high)
    if not found:
        return Fraction(0), Fraction(0)
    return max(a[0] for _, a in found), max(a[1] for _, a in found)


class StepOscillation:
    """`oscillation` of a training step: the largest harmonic of the site's GPU trace (its
    `_segments`, repeating every step) inside the power section's band, its lower end."""

    @property
    def oscillation(self) -> Fraction:
        power = self.spec.cluster.power
        trace = tuple((s.duration, s.power) for s in self._segments)
        return band_peak(trace, power.band_low, power.band_high)[0]
