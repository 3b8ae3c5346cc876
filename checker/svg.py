"""Plain SVG drawing for the HTML report: linear scales, ticks, axes, lines, bars and markers.

No plotting library: a figure is a list of SVG elements written as text. Coordinates are
written with two decimals, so the same figure is the same bytes on every machine. Every text
that reaches the page goes through `esc`. Elements a test or a reader needs to find carry a
class (`tick`, `curve`, `bound`, `worst`, `counterexample`...) and, where they stand for a
value, a `data-value` with the number they were placed at.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from checker.records import record


def esc(text: object) -> str:
    """Text made safe for HTML and SVG content and attribute values (quotes too)."""
    return escape(str(text), quote=True)


def num(x: float) -> str:
    """A coordinate: two decimals, no '-0.00'."""
    text = f"{x:.2f}"
    return "0.00" if text == "-0.00" else text


def label(x: float) -> str:
    """A tick label or data value: up to 6 significant digits, as a reader writes them."""
    if x == 0:
        return "0"
    text = f"{x:.6g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{int(exponent)}"
    return text


@record
class Scale:
    """A linear map from the data interval [lo, hi] onto the pixel interval [start, end]
    (end < start for a y axis, which grows upwards)."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        if self.hi == self.lo:
            return (self.start + self.end) / 2
        return self.start + (float(value) - self.lo) * (self.end - self.start) / (self.hi - self.lo)

    def invert(self, pixel: float) -> float:
        if self.end == self.start:
            return self.lo
        return self.lo + (pixel - self.start) * (self.hi - self.lo) / (self.end - self.start)


def nice_step(span: float, count: int = 5) -> float:
    """A step of 1, 2 or 5 times a power of ten giving about `count` intervals over span."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power


def domain(values: list[float], include_zero: bool = False, pad: float = 0.05) -> tuple[float, float]:
    """An interval holding every value, widened to whole ticks (and a degenerate one opened up)."""
    finite = [v for v in values if math.isfinite(v)]
    if include_zero:
        finite.append(0.0)
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if lo == hi:
        width = abs(lo) * 0.1 or 1.0
        lo, hi = lo - width, hi + width
    else:
        lo, hi = lo - (hi - lo) * pad if lo != 0 else lo, hi + (hi - lo) * pad if hi != 0 else hi
    step = nice_step(hi - lo)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


def ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    step = nice_step(hi - lo, count)
    first = math.ceil(lo / step - 1e-9)
    out = []
    k = first
    while k * step <= hi + step * 1e-9:
        value = round(k * step, 12)
        out.append(0.0 if value == 0 else value)
        k += 1
    return out


@dataclass
class Plot:
    """A figure with a frame of `width` x `height` pixels and a plotting area inside margins."""

    width: int = 560
    height: int = 260
    left: int = 64
    right: int = 16
    top: int = 18
    bottom: int = 42
    parts: list[str] = field(default_factory=list)

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:
        return self.height - self.bottom

    @property
    def y1(self) -> float:
        return self.top

    def xscale(self, lo: float, hi: float) -> Scale:
        return Scale(lo, hi, self.x0, self.x1)

    def yscale(self, lo: float, hi: float) -> Scale:
        return Scale(lo, hi, self.y0, self.y1)

    def add(self, element: str) -> None:
        self.parts.append(element)

    def x_axis(self, scale: Scale, title: str, unit: str = "") -> None:
        out = [f'<g class="axis x" data-unit="{esc(unit)}">',
               f'<line class="frame" x1="{num(self.x0)}" y1="{num(self.y0)}" x2="{num(self.x1)}" y2="{num(self.y0)}"/>']
        for value in ticks(scale.lo, scale.hi):
            x = scale(value)
            out.append(f'<line class="tick" data-value="{label(value)}" x1="{num(x)}" y1="{num(self.y0)}" x2="{num(x)}" y2="{num(self.y0 + 5)}"/>')
            out.append(f'<text x="{num(x)}" y="{num(self.y0 + 17)}" text-anchor="middle">{esc(label(value))}</text>')
        text = f"{title} ({unit})" if unit else title
        out.append(f'<text class="title" x="{num((self.x0 + self.x1) / 2)}" y="{num(self.height - 6)}" text-anchor="middle">{esc(text)}</text>')
        out.append("</g>")
        self.add("".join(out))

    def y_axis(self, scale: Scale, title: str, unit: str = "") -> None:
        out = [f'<g class="axis y" data-unit="{esc(unit)}">',
               f'<line class="frame" x1="{num(self.x0)}" y1="{num(self.y0)}" x2="{num(self.x0)}" y2="{num(self.y1)}"/>']
        for value in ticks(scale.lo, scale.hi):
            y = scale(value)
            out.append(f'<line class="grid" x1="{num(self.x0)}" y1="{num(y)}" x2="{num(self.x1)}" y2="{num(y)}"/>')
            out.append(f'<line class="tick" data-value="{label(value)}" x1="{num(self.x0 - 5)}" y1="{num(y)}" x2="{num(self.x0)}" y2="{num(y)}"/>')
            out.append(f'<text x="{num(self.x0 - 8)}" y="{num(y + 4)}" text-anchor="end">{esc(label(value))}</text>')
        text = f"{title} ({unit})" if unit else title
        out.append(f'<text class="title" x="{num(self.x0)}" y="{num(self.y1 - 6)}" text-anchor="start">{esc(text)}</text>')
        out.append("</g>")
        self.add("".join(out))

    def polyline(self, points: list[tuple[float, float]], cls: str, title: str = "") -> None:
        if not points:
            return
        coords = " ".join(f"{num(x)},{num(y)}" for x, y in points)
        tip = f"<title>{esc(title)}</title>" if title else ""
        self.add(f'<polyline class="{esc(cls)}" points="{coords}">{tip}</polyline>')

    def hline(self, y: float, cls: str, text: str = "", value: float | None = None) -> None:
        data = f' data-value="{label(value)}"' if value is not None else ""
        self.add(f'<line class="{esc(cls)}"{data} x1="{num(self.x0)}" y1="{num(y)}" x2="{num(self.x1)}" y2="{num(y)}"/>')
        if text:
            self.add(f'<text class="{esc(cls)}-label" x="{num(self.x1 - 4)}" y="{num(y - 4)}" text-anchor="end">{esc(text)}</text>')

    def vline(self, x: float, cls: str, text: str = "", value: float | None = None, title: str = "") -> None:
        data = f' data-value="{label(value)}"' if value is not None else ""
        end = f"><title>{esc(title)}</title></line>" if title else "/>"
        self.add(f'<line class="{esc(cls)}"{data} x1="{num(x)}" y1="{num(self.y0)}" x2="{num(x)}" y2="{num(self.y1)}"{end}')
        if text:
            self.add(f'<text class="{esc(cls)}-label" x="{num(x + 4)}" y="{num(self.y1 + 12)}">{esc(text)}</text>')

    def marker(self, x: float, y: float, cls: str, value: float, title: str, shape: str = "circle") -> None:
        tip = f"<title>{esc(title)}</title>"
        data = f'class="{esc(cls)}" data-value="{label(value)}"'
        if shape == "diamond":
            d = 6
            self.add(f'<path {data} d="M{num(x)},{num(y - d)} L{num(x + d)},{num(y)} L{num(x)},{num(y + d)} L{num(x - d)},{num(y)} Z">{tip}</path>')
        else:
            self.add(f'<circle {data} cx="{num(x)}" cy="{num(y)}" r="5">{tip}</circle>')

    def rect(self, x: float, y: float, w: float, h: float, cls: str, title: str = "") -> None:
        tip = f"<title>{esc(title)}</title>" if title else ""
        self.add(f'<rect class="{esc(cls)}" x="{num(x)}" y="{num(y)}" width="{num(max(w, 0))}" height="{num(max(h, 0))}">{tip}</rect>')

    def bars(self, spans: list[tuple[float, float]], y: float, h: float, cls: str, title: str = "") -> None:
        """Many rectangles of one height on one row, [x_start, x_end) each, as one path."""
        if not spans:
            return
        d = "".join(f"M{num(a)} {num(y)}H{num(max(b, a))}V{num(y + h)}H{num(a)}Z" for a, b in spans)
        tip = f"<title>{esc(title)}</title>" if title else ""
        self.add(f'<path class="{esc(cls)}" d="{d}">{tip}</path>')

    def text(self, x: float, y: float, text: str, cls: str = "", anchor: str = "start") -> None:
        c = f' class="{esc(cls)}"' if cls else ""
        self.add(f'<text{c} x="{num(x)}" y="{num(y)}" text-anchor="{anchor}">{esc(text)}</text>')

    def svg(self, title: str) -> str:
        body = "".join(self.parts)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" width="{self.width}" '
                f'height="{self.height}" role="img" aria-label="{esc(title)}"><title>{esc(title)}</title>{body}</svg>')


def legend(items: list[tuple[str, str]]) -> str:
    """An HTML legend: (css class of the swatch, text) pairs."""
    cells = "".join(f'<span class="key"><span class="swatch {esc(cls)}"></span>{esc(text)}</span>' for cls, text in items)
    return f'<div class="legend">{cells}</div>'
