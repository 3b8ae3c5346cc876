"""Imports between spec files and derived blocks: what they bring in, and every hostile import
refused on the right line without reading anything outside the repository root."""

from __future__ import annotations

import os
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from checker import api, codes, imports, parse, runner
from checker.verdicts import Limits
from conftest import verify

GPU = "gpu H100 { peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W }\n"
# a valid spec outside the tree: if any hostile import read it, its block would be importable
OUTSIDE = GPU + "check outside_check: H100.tdp <= 700 W\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository root (marked by verify.toml) inside tmp_path, and a valid spec outside it."""
    root = tmp_path / "repo"
    (root / "catalog").mkdir(parents=True)
    (root / "verify.toml").write_text("", encoding="utf-8")
    (tmp_path / "outside.spec").write_text(OUTSIDE, encoding="utf-8")
    (root / "catalog" / "gpus.spec").write_text(GPU + "gpu B200 { peak = 2250 TFLOP/s; memory = 180 GB; tdp = 1000 W }\n", encoding="utf-8")
    return root


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def check(path: str) -> api.FileResult:
    return api.check_file(path, Limits())


def only_error(result: api.FileResult):
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert len(errors) == 1, [d.header() for d in result.diagnostics]
    return errors[0]


@pytest.fixture
def reads(monkeypatch):
    """Every file the checker opens through pathlib while checking."""
    opened: list[str] = []
    original = Path.read_bytes

    def spy(self):
        opened.append(os.path.realpath(self))
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    return opened


# ---- what an import brings in -------------------------------------------------------------


def test_a_namespace_and_selected_names(repo):
    site = write(repo / "sites" / "a.spec", 'import "../catalog/gpus.spec" as cat\nfrom "../catalog/gpus.spec" import B200\n'
                 "cluster c { pool h = 10 x cat.H100; pool b = 2 x B200 }\n"
                 "check draw: c.power.draw <= 9 kW\ncheck tdp: cat.H100.tdp + B200.tdp <= 1700 W\n")
    result = check(site)
    assert result.status == "proved", [d.header() for d in result.diagnostics]
    assert {v.claim.name for v in result.verdicts if v.claim.kind == "check"} == {"draw", "tdp"}
    assert "cat.H100" in {b.name for b in result.model.blocks}
    # 10 x 700 W + 2 x 1000 W = 9 kW exactly: the claim is tight, so the imported values are used
    assert next(v for v in result.verdicts if v.claim.name == "draw").worst.value == Fraction(9000)


def test_an_imported_files_claims_are_not_checked_by_its_importer(repo):
    write(repo / "catalog" / "claims.spec", GPU + "check catalog_claim: H100.tdp <= 1 W\n")
    site = write(repo / "site.spec", 'from "catalog/claims.spec" import H100\ncheck mine: H100.tdp <= 700 W\n')
    result = check(site)
    assert result.status == "proved"
    assert "catalog_claim" not in {v.claim.name for v in result.verdicts}
    assert check(str(repo / "catalog" / "claims.spec")).status == "violated"  # checked on its own


def test_a_find_over_an_imported_block(repo):
    """A find statement names an imported radiator through its namespace: it is kept, searched
    and answered as in the radiator's own file. The most heat one side of 200 m^2 at 700 K
    rejects is Q = A eps sigma T^4 (a rational boundary, about 2.45 MW, inside 2 MW .. 4 MW)."""
    write(repo / "catalog" / "panels.spec", "radiator panel { heat = 2 MW .. 4 MW; emissivity = 0.9; temperature = 700 K }\n")
    site = write(repo / "site.spec", 'import "catalog/panels.spec" as pn\nfind most_heat: max pn.panel.heat such that pn.panel.area <= 200 m^2\n')
    result = check(site)
    found = [v for v in result.verdicts if v.claim.name == "most_heat"]
    assert len(found) == 1, [d.header() for d in result.diagnostics]
    sigma = Fraction(5670374419, 10**17)
    assert found[0].status == "proved"
    assert found[0].answer.exact and found[0].answer.proved == 200 * Fraction(9, 10) * sigma * 700**4


def test_an_imported_block_keeps_its_own_files_names(repo):
    """A cluster imported from a file uses that file's H100, not the importer's (nor the built-in)."""
    write(repo / "catalog" / "pods.spec", GPU.replace("700 W", "650 W") + "cluster pod { pool a = 100 x H100 }\n")
    site = write(repo / "site.spec", 'import "catalog/pods.spec" as p\n' + GPU + "check draw: p.pod.power.draw <= 65 kW\ncheck own: H100.tdp <= 700 W\n")
    result = check(site)
    assert result.status == "proved", [d.header() for d in result.diagnostics]
    draw = next(v for v in result.verdicts if v.claim.name == "draw")
    assert draw.worst.value == 65000  # 100 x 650 W: the catalog's own H100


def test_an_unknown_imported_name_is_an_error_on_its_line(repo):
    site = write(repo / "site.spec", 'from "catalog/gpus.spec" import H100, H200x\ncheck c: H100.tdp <= 700 W\n')
    d = only_error(check(site))
    assert (d.code, d.span.line, d.span.column) == (codes.UNKNOWN_NAME, 1, 39)
    assert "declares no block 'H200x'" in d.message
    site = write(repo / "site2.spec", 'import "catalog/gpus.spec" as cat\ncheck c: cat.H10.tdp <= 700 W\n')
    d = only_error(check(site))
    assert (d.code, d.span.line) == (codes.UNKNOWN_NAME, 2) and "did you mean 'H100'" in d.message


def test_a_mistake_inside_an_imported_file_points_there_with_the_chain(repo):
    write(repo / "catalog" / "broken.spec", "gpu X { peak = 1 TFLOP/s; memory = 1 GB; tdp = 1 parsec }\n")
    write(repo / "catalog" / "middle.spec", 'import "broken.spec" as b\ngpu Y from b.X { }\n')
    site = write(repo / "site.spec", '# a comment\nfrom "catalog/middle.spec" import Y\ncheck c: Y.tdp <= 1 W\n')
    result = check(site)
    d = only_error(result)
    assert d.span.file.endswith(os.path.join("catalog", "broken.spec")) and (d.span.line, d.span.column) == (1, 50)
    assert any(n.startswith("imported via ") and f"{site}:2:1" in n and "middle.spec:1:1" in n for n in d.notes), d.notes
    assert any("inherited by 'Y'" in n for n in d.notes), d.notes
    run = verify(site)
    assert "broken.spec:1:50: error: unknown unit 'parsec'" in run.out
    assert "1 | gpu X { peak = 1 TFLOP/s; memory = 1 GB; tdp = 1 parsec }" in run.out  # that file's line


def test_a_syntax_error_in_an_imported_file(repo):
    write(repo / "catalog" / "bad.spec", "gpu X {\n  peak = \n}\n")
    site = write(repo / "site.spec", 'import "catalog/bad.spec" as b\ncheck c: 1 W <= 2 W\n')
    d = only_error(check(site))
    assert d.code == codes.SYNTAX and d.span.file.endswith("bad.spec") and d.span.line == 2


# ---- hostile imports: each a clear error on its line, nothing read outside the tree -------------


HOSTILE = {
    "absolute": ('import "{outside}" as o\n', codes.BAD_IMPORT, "is absolute"),
    "dot-dot": ('import "../outside.spec" as o\n', codes.BAD_IMPORT, "leaves the repository root"),
    "deep-dot-dot": ('import "catalog/../../outside.spec" as o\n', codes.BAD_IMPORT, "leaves the repository root"),
    "symlink": ('import "link.spec" as o\n', codes.BAD_IMPORT, "symbolic link to a file outside the repository root"),
    "symlinked-directory": ('import "linkdir/outside.spec" as o\n', codes.BAD_IMPORT, "symbolic link to a file outside the repository root"),
    "missing": ('import "catalog/nope.spec" as o\n', codes.BAD_IMPORT, "does not exist"),
    "directory": ('import "catalog.spec" as o\n', codes.BAD_IMPORT, "is a directory"),
    "not-a-spec": ('import "notes.txt" as o\n', codes.BAD_IMPORT, "does not name a .spec file"),
    "empty": ('import "" as o\n', codes.BAD_IMPORT, "empty import path"),
    "self": ('import "site.spec" as o\n', codes.CYCLE, "an import cycle: "),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_import(case, repo, tmp_path, reads):
    text, code, words = HOSTILE[case]
    (repo / "link.spec").symlink_to(tmp_path / "outside.spec")
    (repo / "linkdir").symlink_to(tmp_path)
    (repo / "catalog.spec").mkdir()
    (repo / "notes.txt").write_text(OUTSIDE, encoding="utf-8")
    site = write(repo / "site.spec", "# line 1\n" + text.format(outside=tmp_path / "outside.spec") + "check c: o.H100.tdp <= 700 W\n")
    result = check(site)
    d = only_error(result)
    assert (d.code, d.span.file, d.span.line, d.span.column) == (code, site, 2, 8), d.header()
    assert words in d.message
    assert not result.verdicts and "outside_check" not in str(result.diagnostics)
    outside = os.path.realpath(tmp_path / "outside.spec")
    assert outside not in reads and all(os.path.realpath(p).startswith(os.path.realpath(repo)) for p in reads), reads
    assert not any(p.endswith("notes.txt") for p in reads)


def test_a_cycle_prints_its_chain(repo):
    write(repo / "a.spec", 'import "b.spec" as b\n' + GPU)
    write(repo / "b.spec", '\n\nimport "c.spec" as c\n')
    write(repo / "c.spec", 'import "a.spec" as a\n')
    result = check(str(repo / "a.spec"))
    d = only_error(result)
    assert d.code == codes.CYCLE and d.span.file == str(repo / "c.spec") and d.span.line == 1
    assert d.message == f"an import cycle: {repo / 'a.spec'} → {repo / 'b.spec'} → {repo / 'c.spec'} → {repo / 'a.spec'}"


def test_a_huge_fan_out_is_bounded(repo, reads):
    lines = [f'import "many/f{i}.spec" as f{i}' for i in range(imports.MAX_FILES + 10)]
    for i in range(imports.MAX_FILES + 10):
        write(repo / "many" / f"f{i}.spec", GPU)
    site = write(repo / "site.spec", "\n".join(lines) + "\n")
    d = only_error(check(site))
    assert d.code == codes.TOO_LARGE and d.span.line == imports.MAX_FILES  # the import that goes past the limit
    assert f"more than {imports.MAX_FILES}" in d.message
    assert len(set(reads)) <= imports.MAX_FILES  # the checked file and MAX_FILES - 1 imports, no more


def test_a_deep_chain_is_bounded_too(repo):
    for i in range(imports.MAX_FILES + 5):
        write(repo / f"c{i}.spec", f'import "c{i + 1}.spec" as n\n')
    write(repo / f"c{imports.MAX_FILES + 5}.spec", GPU)
    d = only_error(check(str(repo / "c0.spec")))
    assert d.code == codes.TOO_LARGE and d.span.file.endswith(f"c{imports.MAX_FILES - 1}.spec")  # c0 and 63 more: 64 files


def test_without_a_marker_the_root_is_the_checked_files_directory(tmp_path):
    (tmp_path / "top").mkdir()
    write(tmp_path / "common.spec", GPU)
    site = write(tmp_path / "top" / "site.spec", 'import "../common.spec" as s\ncheck c: s.H100.tdp <= 700 W\n')
    d = only_error(check(site))
    assert d.code == codes.BAD_IMPORT and "leaves the repository root" in d.message and "'.' from this file" in d.notes[0]
    (tmp_path / ".verify-root").write_text("", encoding="utf-8")
    assert check(site).status == "proved"


# ---- derivation ------------------------------------------------------------------------------


def test_a_gpu_derived_from_a_built_in_one():
    result = api.check_text("t.spec", "gpu H100_800W from H100 { tdp = 800 W }\ncheck a: H100_800W.tdp <= 800 W\ncheck b: H100_800W.peak >= 989 TFLOP/s\ncheck c: H100_800W.memory <= 80 GB\n")
    assert result.status == "proved", [d.header() for d in result.diagnostics]


def test_a_cluster_derived_with_one_pool_changed():
    text = (GPU + "gpu B { peak = 2 PFLOP/s; memory = 180 GB; tdp = 1000 W }\n"
            "cluster a { pool x = 100 x H100; pool y = 10 x H100; power { pue = 1.5; overhead = 0 % } }\n"
            "cluster b from a { pool x = 100 x B; power { overhead = 10 % } }\n"
            "check a_draw: a.power.draw <= 115.5 kW\ncheck b_draw: b.power.draw <= 176.55 kW\n")
    result = api.check_text("t.spec", text)
    assert result.status == "proved", [d.header() for d in result.diagnostics]
    b = result.model.block("b")
    assert [(p.name, p.count, p.gpu.name) for p in b.pools] == [("x", 100, "B"), ("y", 10, "H100")]
    assert b.power.pue.value == Fraction(3, 2) and b.power.overhead.value == Fraction(1, 10)
    # (100 x 1000 W + 10 x 700 W) x 1.1 x 1.5 = 176.55 kW: tight
    assert next(v for v in result.verdicts if v.claim.name == "b_draw").worst.value == Fraction(176550)


def test_a_radiator_derived_with_area_instead_of_temperature():
    text = "radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\nradiator q from p { area = 2000 m^2 }\ncheck t: q.temperature <= 330 K\n"
    result = api.check_text("t.spec", text)
    assert result.status == "proved", [d.header() for d in result.diagnostics]
    assert result.model.block("q").temperature is None and result.model.block("q").area is not None


def test_a_workload_derived_keeps_its_cluster():
    text = (GPU + "cluster c { pool a = 8 x H100; network { topology = ring; bandwidth = 50 GB/s; latency = 5 us } }\n"
            "workload w on c { kind = training; params = 1e9; batch = 1e6 token; efficiency = 40 % }\n"
            "workload w2 from w { efficiency = 50 % }\ncheck m: w2.mfu >= w.mfu\n")
    result = api.check_text("t.spec", text)
    assert result.status == "proved", [d.header() for d in result.diagnostics]
    assert result.model.block("w2").cluster.name == "c"


@pytest.mark.parametrize("text, code, line, words", [
    ("cluster c { pool a = 1 x H100 }\ngpu g from c { tdp = 1 W }\n", codes.UNKNOWN_NAME, 2, "'c' is a cluster; a gpu can start only from a gpu"),
    ("gpu g from nothing { tdp = 1 W }\n", codes.UNKNOWN_NAME, 1, "no gpu named 'nothing' to start from"),
    ("gpu a from b { tdp = 1 W }\ngpu b from a { tdp = 2 W }\n", codes.CYCLE, 1, "blocks that start from each other: a → b → a"),
    ("gpu a from H100 { tdp = 1 W }\ncheck x: a.tdp <= nope.tdp\n", codes.UNKNOWN_NAME, 2, "unknown name 'nope'"),
])
def test_derivation_errors(text, code, line, words):
    result = api.check_text("t.spec", text)
    d = next(d for d in result.diagnostics if d.severity == "error")
    assert (d.code, d.span.line) == (code, line) and words in d.message, d.header()


def test_an_inherited_mistake_is_reported_once_with_every_block_inheriting_it():
    text = "gpu a { peak = 1 TFLOP/s; memory = 1 GB; tdp = 1 W; idle = 1 GB }\ngpu b from a { tdp = 2 W }\ngpu c from b { tdp = 3 W }\n"
    result = api.check_text("t.spec", text)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert len(errors) == 1 and errors[0].span.line == 1
    assert "inherited by 'b' (t.spec:2) from 'a'" in errors[0].notes and "inherited by 'c' (t.spec:3) from 'b'" in errors[0].notes


# ---- once per run, the cache, the hook ---------------------------------------------------------


def test_each_file_is_parsed_once_per_run(repo, monkeypatch):
    parsed: list[str] = []
    original = parse.parse_text
    monkeypatch.setattr(parse, "parse_text", lambda path, text: parsed.append(path) or original(path, text))
    imports._PARSED.clear()
    sites = [write(repo / f"s{i}.spec", f'import "catalog/gpus.spec" as cat\ncheck c{i}: cat.H100.tdp <= 700 W\n') for i in range(3)]
    results = runner.check_files(sites, Limits(), jobs=1, use_cache=True)
    assert [r.status for r in results] == ["proved"] * 3
    assert sorted(parsed) == sorted([*sites, str(repo / "catalog" / "gpus.spec")])


def test_verify_dir_checks_each_file_once(repo):
    write(repo / "site.spec", 'import "catalog/gpus.spec" as cat\ncheck c: cat.H100.tdp <= 700 W\n')
    files, missing = api.expand([str(repo), str(repo / "site.spec"), str(repo / "catalog")])
    assert not missing and sorted(files) == sorted({str(repo / "site.spec"), str(repo / "catalog" / "gpus.spec")}) and len(files) == 2


def test_the_cache_key_holds_the_imported_files(repo):
    catalog = repo / "catalog" / "gpus.spec"
    site = write(repo / "site.spec", 'import "catalog/gpus.spec" as cat\ncheck c: cat.H100.tdp <= 700 W\n')
    assert runner.check_files([site], Limits(), jobs=1)[0].status == "proved"
    assert runner.check_files([site], Limits(), jobs=1)[0].status == "proved"  # from the cache
    catalog.write_text(catalog.read_text(encoding="utf-8").replace("tdp = 700 W", "tdp = 750 W"), encoding="utf-8")
    assert runner.check_files([site], Limits(), jobs=1)[0].status == "violated"  # the catalog changed: checked again


def test_with_importers_adds_the_specs_that_import_a_changed_file(repo, monkeypatch):
    write(repo / "site.spec", 'import "catalog/gpus.spec" as cat\ncheck c: cat.H100.tdp <= 700 W\n')
    write(repo / "region" / "east.spec", 'from "../site.spec" import H100x  # a stale name\n')
    write(repo / "region" / "west.spec", '# import "catalog/gpus.spec" as cat  (a comment, not an import)\n' + GPU + "check w: H100.tdp <= 700 W\n")
    write(repo / ".hidden" / "skip.spec", 'import "../catalog/gpus.spec" as cat\n')
    monkeypatch.chdir(repo)
    assert imports.importers(["catalog/gpus.spec"]) == ["region/east.spec", "site.spec"]  # east through site
    run = verify("--with-importers", "catalog/gpus.spec")
    assert "site.spec: proved" in run.out and "region/east.spec: invalid" in run.out and "west" not in run.out
    assert run.code == 2
    (repo / "catalog" / "gpus.spec").write_text(GPU.replace("700 W", "750 W"), encoding="utf-8")
    assert "site.spec: violated" in verify("--with-importers", "catalog/gpus.spec").out


def test_the_pre_commit_hook_checks_the_importers():
    from conftest import ROOT

    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "entry: verify --with-importers\n" in hooks


def test_with_importers_in_a_git_repository(repo, tmp_path, monkeypatch):
    """As pre-commit calls it: the staged file names, from the repository's top."""
    (repo / "verify.toml").unlink()
    env = dict(os.environ, GIT_CONFIG_GLOBAL=str(tmp_path / "gitconfig"), GIT_CONFIG_NOSYSTEM="1")
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    write(repo / "site.spec", 'import "catalog/gpus.spec" as cat\ncheck c: cat.H100.tdp <= 700 W\n')
    monkeypatch.chdir(repo)
    (repo / "catalog" / "gpus.spec").write_text(GPU.replace("700 W", "710 W"), encoding="utf-8")
    run = verify("--with-importers", "catalog/gpus.spec")
    assert run.code == 1 and "site.spec: violated" in run.out


def test_a_built_in_name_in_an_imported_file_does_not_bind_to_the_importers_block(repo):
    write(repo / "catalog" / "pods.spec", "cluster pod { pool a = 10 x A100 }\n")  # the built-in A100
    site = write(repo / "site.spec", 'import "catalog/pods.spec" as p\ngpu A100 { peak = 1 TFLOP/s; memory = 1 GB; tdp = 1 W }\ncheck c: p.pod.power.draw <= 4 kW\n')
    d = only_error(check(site))
    assert d.code == codes.DUPLICATE and d.span.file.endswith("pods.spec") and "declares its own 'A100'" in d.message
