"""The wheel, installed outside the checkout: what ``pip install .`` gives a finance bureau.

Builds the wheel from a copy of the files a build reads (so no build/ folder or stale file in the
checkout can leak in), installs it with ``--no-deps`` into a fresh venv in tmp whose dependencies
come from this interpreter's site-packages (a ``.pth`` line: no network for the install), and runs
the console script from a folder in tmp on a rulebook that inherits the national rulebook by name.
Runs in CI with the rest of the suite (about 10–20 s).
"""
from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ["pyproject.toml", "README.md", "jxdsl", "grammar", "rulebooks"]

CHILD = """规则集 某省-2024-单位自评 继承 单位自评-财预2020-10
年度 2024
调整 预算执行率 权重 15
调整 产出指标 权重 45
"""
FACTS = """项目: 乡村道路养护
年度: 2024
事实:
  全年预算数: 100万元
  全年执行数: 90万元
目标表:
  - {一级指标: 产出指标, 二级指标: 数量指标, 三级指标: 养护里程, 分值: 45, 年度指标值: ≥100公里, 实际完成值: 80公里}
  - {一级指标: 效益指标, 二级指标: 社会效益指标, 三级指标: 通行条件改善, 分值: 30, 年度指标值: 明显改善, 实际完成值: 明显改善}
  - {一级指标: 满意度指标, 二级指标: 服务对象满意度指标, 三级指标: 群众满意度, 分值: 10, 年度指标值: ≥90%, 实际完成值: 95%}
"""


def _offline_build_possible() -> bool:
    """setuptools ≥ 68 with bdist_wheel in this environment: then the build needs no index."""
    try:
        import setuptools
    except ImportError:
        return False
    major = int(setuptools.__version__.split(".")[0])
    if major < 68:
        return False
    if major >= 71:  # bdist_wheel is part of setuptools since 70.1
        return True
    try:
        import wheel  # noqa: F401
    except ImportError:
        return False
    return True


def _run(args: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in BUILD_INPUTS:
        p = ROOT / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(p, src / name)
    out = tmp_path_factory.mktemp("dist")
    # without a recent setuptools here, pip's build isolation fetches one from the index (as in CI's fresh venv)
    isolation = ["--no-build-isolation"] if _offline_build_possible() else []
    r = _run([sys.executable, "-m", "pip", "wheel", ".", "-w", out, "--no-deps", "-q", *isolation], cwd=src)
    assert r.returncode == 0, r.stdout + r.stderr
    (whl,) = out.glob("jxdsl-*.whl")
    return whl


def test_wheel_holds_every_module_the_grammar_and_the_library(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "jxdsl").rglob("*.py") if "__pycache__" not in p.parts}
    assert modules and modules <= names, sorted(modules - names)
    assert "jxdsl/grammar/jxdsl.lark" in names
    books = {"jxdsl/" + p.relative_to(ROOT).as_posix() for p in (ROOT / "rulebooks").rglob("*.jx")}
    assert books and books <= names, sorted(books - names)
    web = {p.relative_to(ROOT).as_posix() for p in (ROOT / "jxdsl" / "web").iterdir()}  # jxdsl serve's page
    assert {"jxdsl/web/index.html", "jxdsl/web/jxdsl.tmLanguage.json"} <= web <= names, sorted(web - names)


def test_installed_wheel_runs_a_rulebook_from_tmp_inheriting_by_name(wheel, tmp_path):
    # no PYTHONPATH (a checkout on it would count as jxdsl already installed), no JXDSL_PATH
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JXDSL_PATH")}
    env["JXDSL_CACHE_DIR"] = str(tmp_path / "cache")
    venv = tmp_path / "venv"
    r = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    py = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    r = _run([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index", "-q", wheel], cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    # the dependencies from this environment, added after the install so pip cannot see an older jxdsl there
    target = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path, env=env).stdout.strip())
    deps = [p for p in [*site.getsitepackages(), sysconfig.get_paths()["purelib"]] if Path(p).is_dir()]
    (target / "jxdsl-test-deps.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n", encoding="utf-8")

    work = tmp_path / "某县财政局"
    work.mkdir()
    (work / "2024.jx").write_text(CHILD, encoding="utf-8")
    (work / "facts.yaml").write_text(FACTS, encoding="utf-8")
    jxdsl = venv / ("Scripts/jxdsl.exe" if os.name == "nt" else "bin/jxdsl")

    where = _run([py, "-c", "import jxdsl.cli; print(jxdsl.cli.__file__)"], cwd=work, env=env)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr

    check = _run([jxdsl, "check", "2024.jx"], cwd=work, env=env)
    assert check.returncode == 0, check.stderr
    assert "（继承 单位自评-财预2020-10）" in check.stdout and "预算执行率  权重 15" in check.stdout

    listing = _run([jxdsl, "rulebooks", "--format", "json"], cwd=work, env=env)
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    national = next(r for r in data["rulebooks"] if r["name"] == "单位自评-财预2020-10")
    assert national["source"] == "installed" and national["used"] and Path(national["file"]).is_relative_to(venv)
    assert any(r["name"] == "某省-2024-单位自评" and r["source"] == "own-tree" for r in data["rulebooks"])

    for _ in range(2):  # the second start reads the parser from the cache written by the first
        explain = _run([jxdsl, "explain", "2024.jx", "facts.yaml"], cwd=work, env=env)
        assert explain.returncode == 0, explain.stderr
        assert "乡村道路养护：总分 89.5 / 100，等级 良" in explain.stdout
        assert "养护里程：36 / 45" in explain.stdout
    assert list((tmp_path / "cache").glob("parser-*.lark"))
    assert "Traceback" not in check.stderr + explain.stderr
