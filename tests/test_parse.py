"""Syntax: every bad input named in the language issue gets file:line:col, words, a caret."""

from __future__ import annotations

import pytest

from conftest import verify

GOOD_PANEL = """radiator panel {
  heat = 1 MW
  emissivity = 0.9
  temperature = 330 K
}
check c: panel.area <= 2000 m^2
"""


@pytest.mark.parametrize(
    "text, line, column, words",
    [
        # a missing '='
        ("radiator panel {\n  heat 1 MW\n}\n", 2, 8, "expected '=' after the field name, found '1'"),
        # an unclosed '{' points at the brace that is never closed
        ("radiator panel {\n  heat = 1 MW\n", 1, 16, "this '{' is never closed"),
        # a range with one end missing
        ("radiator panel {\n  emissivity = 0.85 ..\n}\n", 2, 23, "a range needs both ends"),
        ("radiator panel {\n  emissivity = .. 0.9\n}\n", 2, 16, "expected"),
        # an unknown top-level keyword, with a suggestion
        ("chek fits: a.b <= 1\n", 1, 1, "unknown statement 'chek'"),
        ("radiater panel { heat = 1 MW }\n", 1, 1, "did you mean 'radiator'?"),
        # a stray character
        ("radiator panel {\n  heat = 1 MW $\n}\n", 2, 15, "unexpected character '$'"),
        # a claim without its comparison
        ("check c: a.b\n", 1, 13, "a comparison"),
    ],
)
def test_syntax_errors_point_at_the_place(spec, text, line, column, words):
    path = spec(text)
    result = verify(path)
    assert result.code == 2
    header = result.out.splitlines()[1] if result.out.startswith(path + ":") and not result.out.startswith(f"{path}:{line}") else None
    first = next(l for l in result.out.splitlines() if l.startswith(f"{path}:{line}:"))
    assert first.startswith(f"{path}:{line}:{column}: error: "), first
    assert words in first
    assert first.endswith("[syntax]") or first.endswith("[bad-character]")
    assert "^" in result.out  # the caret under the source line
    assert "Traceback" not in result.out + result.err
    del header


def test_no_raw_token_names_in_messages(spec):
    for text in ("radiator panel {\n  heat = = 1 MW\n}\n", "check c: a.b <= \n", "gpu g { peak = 1 TFLOP/s ; ; memory }\n"):
        out = verify(spec(text)).out
        for raw in ("NAME", "NUMBER", "_NL", "$END", "LBRACE", "EQUAL", "__ANON"):
            assert raw not in out, (text, out)


def test_semicolons_crlf_tabs_and_bom_are_accepted(spec):
    one_line = "radiator panel { heat = 1 MW; emissivity = 0.9; temperature = 330 K }; check c: panel.area <= 2000 m^2"
    assert verify(spec(one_line)).code == 0
    crlf = GOOD_PANEL.replace("\n", "\r\n").replace("  ", "\t")
    assert verify(spec("", raw=b"\xef\xbb\xbf" + crlf.encode())).code == 0


def test_crlf_keeps_line_numbers(spec):
    text = "radiator panel {\r\n  heat = 1 MW\r\n  emissivity = 2\r\n  temperature = 330 K\r\n}\r\ncheck c: panel.area <= 900 m^2\r\n"
    out = verify(spec(text)).out
    assert ":3:3: error: invariant 'panel.emissivity is within (0, 100 %]' is violated" in out


def test_invalid_utf8_and_nul_are_diagnosed_at_their_place(spec):
    bad = verify(spec("", raw=b"radiator panel {\n  heat = 1 \xff MW\n}\n"))
    assert bad.code == 2 and ":2:12: error: the file is not valid UTF-8 text [read-error]" in bad.out
    nul = verify(spec("", raw=b"check c: a.b <= 1\x00\n"))
    assert nul.code == 2 and ":1:18: error: the file contains a NUL byte" in nul.out


def test_numbers_are_bounded(spec):
    out = verify(spec("radiator p { heat = 1e999999 W; emissivity = 0.9; temperature = 300 K }\n")).out
    assert ":1:21: error: the number 1e999999 is out of range" in out and "[number-range]" in out
