"""`verify explain`: a quantity's formula, the spec's values in it, its value and where each
input is written; every block's fields and derived quantities. Values hand-computed here."""

from __future__ import annotations

from conftest import ROOT, verify


def test_a_quantity_over_a_range_with_inputs_from_an_imported_file(monkeypatch):
    monkeypatch.chdir(ROOT)
    run = verify("explain", "examples/site.spec", "phase1.power.draw")
    assert run.code == 0 and run.err == ""
    lines = run.out.splitlines()
    assert lines[0] == "phase1.power.draw: the facility's peak draw (cluster phase1, line 17; in W)"
    assert lines[1] == "  formula: power.draw = Σ_c N_c · tdp_c · (1 + overhead) · pue"
    assert lines[2] == "  with this spec's values: Σ_c N_c · tdp_c · (1 + 30 %) · (1.2 .. 1.3)"
    # (8192 x 800 W + 64 x 700 W) x 1.3 x 1.2 = 10 293 504 W; x 1.3 x 1.3 = 11 151 296 W
    assert lines[3] == "  value: 10.29 MW (exact 10293504 W) .. 11.15 MW (exact 11151296 W) over the ranges of phase1.power.pue (assumptions not applied)"
    assert "    pool spare = 64 x cat.H100      examples/catalog/gpus.spec line 9" in lines
    assert "    H100_800W.tdp = 800 W           line 15" in lines  # the derived gpu's own field
    assert "    phase1.power.pue = 1.2 .. 1.3   examples/catalog/gpus.spec line 16" in lines  # inherited


def test_a_constant_quantity_and_a_field(spec):
    path = spec("radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ngpu g from H100 { tdp = 800 W }\n")
    run = verify("explain", path, "p.flux", "g.tdp", "g.memory")
    assert run.code == 0, run.err
    # flux = heat / area = emissivity σ T⁴ = 0.9 x 5.670374419e-8 x 330⁴ W/m^2 = 605.2 W/m^2
    assert "  value: 605.2 W/m^2\n" in run.out
    assert "  with this spec's values: 1 MW / area\n" in run.out
    assert "    p.sink = 0 K           default\n" in run.out
    assert "g.tdp: a field of gpu g (line 2): board power at full load\n  value: 800 W  (line 2)\n" in run.out
    assert "g.memory: a field of gpu g (line 2): memory per GPU\n  value: 80 GB  (line 2)\n" in run.out  # from the built-in H100


def test_a_training_quantity_lists_what_the_report_shows_beside_it(monkeypatch):
    monkeypatch.chdir(ROOT)
    run = verify("explain", "examples/colossus1.spec", "pretrain.mfu")
    assert run.code == 0
    assert "  formula: mfu = flops_per_token · batch / (step_time · Σ_c N_c · peak_c)\n" in run.out
    assert "  value: 0.2276 (exact 546560960000/2400898584119) .. 0.2353" in run.out  # the golden report's worst case is 22.76 %
    assert "  beside it in a report:\n" in run.out and "    pretrain.comm_time = 341.4 ms\n" in run.out


def test_listing_every_block(monkeypatch):
    monkeypatch.chdir(ROOT)
    run = verify("explain", "examples/site.spec")
    assert run.code == 0
    blocks = [line for line in run.out.splitlines() if line and not line.startswith(" ")]
    assert blocks == ["gpu cat.H100  (examples/catalog/gpus.spec line 4)", "gpu B200  (examples/catalog/gpus.spec line 5)", "gpu H100_800W  (line 15)", "cluster phase1  (line 17)", "cluster phase2  (line 22)"]
    assert "  derived power.draw: the facility's peak draw [W]\n" in run.out
    assert "  power.transition = 50 ms  (default)\n" in run.out


def test_errors(spec, monkeypatch):
    monkeypatch.chdir(ROOT)
    run = verify("explain", "examples/site.spec", "nope.x")
    assert run.code == 4 and "has no block named in 'nope.x'" in run.err
    run = verify("explain", "examples/site.spec", "phase1.drw")
    assert run.code == 4 and "phase1 has no quantity 'drw'; it has: gpus, " in run.err
    run = verify("explain", "tests/bad/import-cycle.spec")
    assert run.code == 2 and "an import cycle" in run.out
    run = verify("explain", spec("gpu g { peak = 1 TFLOP/s }\n"))
    assert run.code == 2 and "needs a 'memory' field" in run.out
    assert verify("explain", "no/such.spec").code == 4


def test_help_names_explain(capsys):
    assert verify("--help").code == 0
    shown = capsys.readouterr().out
    assert "verify explain FILE [NAME.QUANTITY]" in shown
    assert verify("explain", "--help").code == 0
    assert "NAME.QUANTITY" in capsys.readouterr().out
