"""Units: every quantity is an exact rational in SI-like base units plus a dimension.

A dimension is a vector of integer exponents over the base units
s (time), B (data), FLOP (work), token, W (power), K (temperature), m (length), USD (money).
Power is a base unit here (we never need mass), so J = W·s.
"""

from __future__ import annotations

import re
from fractions import Fraction
from checker.records import record

_INDEX = {"s": 0, "B": 1, "FLOP": 2, "token": 3, "W": 4, "K": 5, "m": 6, "USD": 7}
_ORDER = ("USD", "FLOP", "token", "B", "W", "K", "m", "s")  # how a canonical unit name is written


@record
class Dim:
    exps: tuple[int, int, int, int, int, int, int, int] = (0, 0, 0, 0, 0, 0, 0, 0)

    def __mul__(self, other: "Dim") -> "Dim":
        return Dim(tuple(a + b for a, b in zip(self.exps, other.exps)))  # type: ignore[arg-type]

    def __truediv__(self, other: "Dim") -> "Dim":
        return Dim(tuple(a - b for a, b in zip(self.exps, other.exps)))  # type: ignore[arg-type]

    def __pow__(self, power: int) -> "Dim":
        return Dim(tuple(a * power for a in self.exps))  # type: ignore[arg-type]

    @property
    def dimensionless(self) -> bool:
        return not any(self.exps)

    def __str__(self) -> str:
        return canonical_name(self)


def _base(name: str) -> Dim:
    exps = [0] * len(_INDEX)
    exps[_INDEX[name]] = 1
    return Dim(tuple(exps))  # type: ignore[arg-type]


ONE = Dim()
TIME, DATA, WORK, TOKEN, POWER, TEMPERATURE, LENGTH, MONEY = (_base(n) for n in ("s", "B", "FLOP", "token", "W", "K", "m", "USD"))
AREA = LENGTH ** 2
ENERGY = POWER * TIME
RATE = WORK / TIME
BANDWIDTH = DATA / TIME
THROUGHPUT = TOKEN / TIME
SLEW = POWER / TIME
FLUX = POWER / AREA
FREQUENCY = ONE / TIME


UNITS: dict[str, tuple[Fraction, Dim]] = {
    # time
    "ns": (Fraction(1, 10**9), TIME),
    "us": (Fraction(1, 10**6), TIME),
    "\u00b5s": (Fraction(1, 10**6), TIME),
    "ms": (Fraction(1, 10**3), TIME),
    "s": (Fraction(1), TIME),
    "min": (Fraction(60), TIME),
    "h": (Fraction(3600), TIME),
    "d": (Fraction(86400), TIME),
    "yr": (Fraction(365 * 86400), TIME),  # 365 days = 8760 h, the year of capacity and price sheets
    # data (decimal and binary bytes, and bits)
    "B": (Fraction(1), DATA),
    "KB": (Fraction(10**3), DATA),
    "kB": (Fraction(10**3), DATA),
    "MB": (Fraction(10**6), DATA),
    "GB": (Fraction(10**9), DATA),
    "TB": (Fraction(10**12), DATA),
    "PB": (Fraction(10**15), DATA),
    "KiB": (Fraction(2**10), DATA),
    "MiB": (Fraction(2**20), DATA),
    "GiB": (Fraction(2**30), DATA),
    "TiB": (Fraction(2**40), DATA),
    "b": (Fraction(1, 8), DATA),
    "Kb": (Fraction(10**3, 8), DATA),
    "Mb": (Fraction(10**6, 8), DATA),
    "Gb": (Fraction(10**9, 8), DATA),
    "Tb": (Fraction(10**12, 8), DATA),
    # work
    "FLOP": (Fraction(1), WORK),
    "GFLOP": (Fraction(10**9), WORK),
    "TFLOP": (Fraction(10**12), WORK),
    "PFLOP": (Fraction(10**15), WORK),
    "EFLOP": (Fraction(10**18), WORK),
    # tokens
    "token": (Fraction(1), TOKEN),
    "Mtoken": (Fraction(10**6), TOKEN),  # a million tokens: prices are quoted per million (USD/Mtoken)
    # power and energy
    "W": (Fraction(1), POWER),
    "kW": (Fraction(10**3), POWER),
    "MW": (Fraction(10**6), POWER),
    "GW": (Fraction(10**9), POWER),
    "J": (Fraction(1), ENERGY),
    "kJ": (Fraction(10**3), ENERGY),
    "MJ": (Fraction(10**6), ENERGY),
    "GJ": (Fraction(10**9), ENERGY),
    "Wh": (Fraction(3600), ENERGY),
    "kWh": (Fraction(3600 * 10**3), ENERGY),
    "MWh": (Fraction(3600 * 10**6), ENERGY),
    "GWh": (Fraction(3600 * 10**9), ENERGY),
    # temperature (kelvin only: the physics needs absolute temperature)
    "K": (Fraction(1), TEMPERATURE),
    # length
    "m": (Fraction(1), LENGTH),
    "km": (Fraction(10**3), LENGTH),
    # money (one currency; rates such as USD/h or USD/MWh are compounds)
    "USD": (Fraction(1), MONEY),
    # shares
    "%": (Fraction(1, 100), ONE),
    # frequency (a grid's oscillation band)
    "mHz": (Fraction(1, 1000), FREQUENCY),
    "Hz": (Fraction(1), FREQUENCY),
    "kHz": (Fraction(1000), FREQUENCY),
}

SI_PREFIXES = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
CELSIUS = ("C", "degC", "celsius", "Celsius", "oC")
FAHRENHEIT = ("F", "degF", "fahrenheit", "Fahrenheit", "oF")

_TERM = re.compile(r"^([A-Za-z\u00b5%][A-Za-z0-9\u00b5]*)(?:\^(-?[0-9]+))?$")


class UnitError(ValueError):
    """A unit text that is not in the table; ``symbol`` is the part that failed."""

    def __init__(self, symbol: str, suggestion: str | None) -> None:
        super().__init__(symbol)
        self.symbol = symbol
        self.suggestion = suggestion


def parse_unit(text: str) -> tuple[Fraction, Dim]:
    """``'TFLOP/s'`` → (10**12, FLOP/s). Raises :class:`UnitError` naming the bad symbol."""
    scale, dim = Fraction(1), ONE
    for index, term in enumerate(text.split("/")):
        match = _TERM.match(term)
        symbol = match.group(1) if match else term
        if not match or symbol not in UNITS:
            import difflib  # only for a misspelt name: not on a cold start's path
            close = difflib.get_close_matches(symbol, UNITS, n=1, cutoff=0.5)
            raise UnitError(symbol, close[0] if close else None)
        power = int(match.group(2) or 1)
        if abs(power) > 4:
            raise UnitError(term, None)
        unit_scale, unit_dim = UNITS[symbol]
        if index > 0:
            power = -power
        scale *= unit_scale**power
        dim = dim * unit_dim**power
    return scale, dim


def hint(symbol: str, value: Fraction | None = None) -> str | None:
    """A note for a unit the table lacks that a user plausibly meant: a temperature in Celsius,
    an SI prefix used as a number suffix, a power written without its caret."""
    if symbol in CELSIUS:
        if value is None:
            return "temperatures are absolute: write kelvin (K); °C + 273.15 = K"
        from checker.numbers import fmt  # a leaf module: no cycle

        return f"temperatures are absolute: {fmt(value)} °C is {fmt(value + Fraction(27315, 100))} K"
    if symbol in FAHRENHEIT:
        if value is None:
            return "temperatures are absolute: write kelvin (K)"
        from checker.numbers import fmt

        return f"temperatures are absolute: {fmt(value)} °F is {fmt((value - 32) * Fraction(5, 9) + Fraction(27315, 100), 6)} K"
    if symbol in SI_PREFIXES:
        example = f"{value}e{len(str(SI_PREFIXES[symbol])) - 1}" if value is not None and value.denominator == 1 else f"1e{len(str(SI_PREFIXES[symbol])) - 1}"
        return f"SI prefixes belong to units (MW, GB, TFLOP/s); for a plain number write {example}"
    stripped = symbol.rstrip("0123456789")
    if stripped != symbol and stripped in UNITS and len(symbol) - len(stripped) == 1:
        return f"did you mean '{stripped}^{symbol[len(stripped):]}'? powers take a caret"
    if symbol in ("dollar", "dollars", "usd", "Usd"):
        return "money is written with the unit USD after the number, e.g. '2.6 USD/h'"
    return None


def money_hint(left: Dim, right: Dim) -> str | None:
    """Why money does not add to something else, and how the two are usually related."""
    if not (left.exps[_INDEX["USD"]] or right.exps[_INDEX["USD"]]):
        return None
    return "money adds only to money of the same kind (USD, USD/yr, USD/h, USD/MWh, USD/Mtoken); a price turns a quantity into money: 1 MW x 1 h x 80 USD/MWh is 80 USD"


def canonical_name(dim: Dim) -> str:
    """A readable unit for a dimension: ``FLOP/s``, ``m^2``, ``W/m^2``, ``1`` when dimensionless."""
    if dim == ENERGY:
        return "J"
    up, down = [], []
    for name in _ORDER:
        power = dim.exps[_INDEX[name]]
        text = name if abs(power) == 1 else f"{name}^{abs(power)}"
        if power > 0:
            up.append(text)
        elif power < 0:
            down.append(text)
    if not up and not down:
        return "1"
    head = "*".join(up) if up else "1"
    return head + "".join("/" + d for d in down)


# The units a report picks from, per dimension, largest first: the largest whose value is >= 1.
DISPLAY: dict[Dim, tuple[str, ...]] = {
    TIME: ("yr", "d", "h", "min", "s", "ms", "us", "ns"),
    DATA: ("PB", "TB", "GB", "MB", "KB", "B"),
    WORK: ("EFLOP", "PFLOP", "TFLOP", "GFLOP", "FLOP"),
    POWER: ("GW", "MW", "kW", "W"),
    ENERGY: ("GWh", "MWh", "kWh", "kJ", "J"),
    RATE: ("EFLOP/s", "PFLOP/s", "TFLOP/s", "GFLOP/s", "FLOP/s"),
    BANDWIDTH: ("TB/s", "GB/s", "MB/s", "B/s"),
    SLEW: ("GW/s", "MW/s", "kW/s", "W/s"),
    AREA: ("km^2", "m^2"),
    LENGTH: ("km", "m"),
    TEMPERATURE: ("K",),
    TOKEN: ("token",),
    THROUGHPUT: ("token/s",),
    FLUX: ("W/m^2",),
    MONEY: ("USD",),
    MONEY / TIME: ("USD/yr",),
    MONEY / ENERGY: ("USD/MWh",),
    MONEY / TOKEN: ("USD/Mtoken",),
    FREQUENCY: ("kHz", "Hz", "mHz"),
    ENERGY / AREA / TEMPERATURE: ("kJ/m^2/K", "J/m^2/K"),  # a radiator's heat capacity
}


def display_unit(value: Fraction, dim: Dim, preferred: str | None = None) -> tuple[Fraction, str]:
    """The value scaled into the unit a report shows it in, and that unit's text."""
    if preferred is not None:
        try:
            scale, pdim = parse_unit(preferred)
        except UnitError:
            pdim = None
        if pdim == dim:
            return value / scale, preferred
    if dim == ONE:
        return value, ""
    for unit in DISPLAY.get(dim, ()):
        scale = parse_unit(unit)[0]
        if abs(value) >= scale or unit == DISPLAY[dim][-1]:
            return value / scale, unit
    return value, canonical_name(dim)
