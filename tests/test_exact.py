"""Exact arithmetic: decimal literals reach Z3 as the rationals they denote, never as floats."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import z3
from hypothesis import given, settings, strategies as st

from checker.encode import encode
from checker.parse import parse_text
from checker.resolve import resolve
from checker.solve import fraction

decimals = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1000000"), places=6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(decimals)
def test_decimal_literals_are_exact_in_z3(number: Decimal):
    text = f"{number:f}"
    spec = f"radiator p {{ heat = {text} W; emissivity = 0.5; temperature = 300 K }}\n"
    model, diagnostics = resolve(parse_text("t.spec", spec))
    assert model is not None, diagnostics
    term = encode(model, z3.Context()).quantity(("p", "heat"))
    assert z3.is_rational_value(term)
    assert fraction(term)[0] == Fraction(text)


def test_one_tenth_is_one_tenth():
    model, _ = resolve(parse_text("t.spec", "radiator p { heat = 0.1 W; emissivity = 0.5; temperature = 300 K }\n"))
    term = encode(model, z3.Context()).quantity(("p", "heat"))
    assert (term.numerator_as_long(), term.denominator_as_long()) == (1, 10)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=999), st.integers(min_value=-20, max_value=20))
def test_scientific_literals_are_exact(mantissa: int, exponent: int):
    model, _ = resolve(parse_text("t.spec", f"radiator p {{ heat = {mantissa}e{exponent} W; emissivity = 0.5; temperature = 300 K }}\n"))
    term = encode(model, z3.Context()).quantity(("p", "heat"))
    assert fraction(term)[0] == Fraction(mantissa) * Fraction(10) ** exponent
