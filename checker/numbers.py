"""How the report writes exact rationals: the only place where numbers are rounded.

A value is written exactly when it is a decimal of at most 6 significant digits; otherwise it
is rounded half-even to 4 significant digits, in scientific notation from 10^4 up so that a
rounded number never ends in zeros that look exact. Exact values are always in the JSON.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

SIGNIFICANT = 4
EXACT_DIGITS = 6


def _exact_decimal(value: Fraction) -> Decimal | None:
    """The value as a finite decimal of few digits, or None if it has none."""
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        return None
    places = max(twos, fives)
    scaled = value.numerator * 10**places // value.denominator
    digits = len(str(abs(scaled)).rstrip("0"))
    if digits > EXACT_DIGITS or places > 12:
        return None
    return Decimal(scaled).scaleb(-places)


def rounded(value: Fraction, significant: int = SIGNIFICANT) -> Decimal:
    """Round a rational (not a float) to the given significant digits, half-even."""
    if value == 0:
        return Decimal(0)
    context = Context(prec=significant + 30)
    exact = context.divide(Decimal(value.numerator), Decimal(value.denominator))
    return Context(prec=significant, rounding=ROUND_HALF_EVEN).plus(exact)


def fmt(value: Fraction, significant: int = SIGNIFICANT) -> str:
    """Text for a value: exact when short, else `significant` digits, keeping the zeros that
    are significant (900.0 is a rounded 900.0156, 900 is exactly 900)."""
    if value.denominator == 1 and abs(value.numerator) < 10**15:
        return str(value.numerator)
    exact = _exact_decimal(value)
    number = exact if exact is not None else rounded(value, significant)
    # a rounded value at or above 10^4 would end in zeros that look exact: write it as 1.234e+7
    if number != 0 and (abs(number) >= Decimal(10) ** 15 or abs(number) < Decimal(10) ** -6 or (exact is None and abs(number) >= 10**4)):
        return f"{number:.{significant - 1}e}"
    text = format(number, "f")
    if "." in text and exact is not None:
        text = text.rstrip("0").rstrip(".")
    return text


def is_exact(value: Fraction) -> bool:
    return (value.denominator == 1 and abs(value.numerator) < 10**15) or _exact_decimal(value) is not None


def ratio(value: Fraction) -> str:
    """The exact value as 'p/q' (or 'p'), for machine output."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
