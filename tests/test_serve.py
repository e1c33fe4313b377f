"""The workbench's JSON API (docs/api.md): every endpoint with good and bad input, through the real
Starlette app (TestClient speaks HTTP to it in-process)."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

starlette = pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from jxdsl import serve  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QIXIA = "rulebooks/shandong/qixia-2021.jx"
QIXIA_FACTS = "examples/qixia-2021/facts.yaml"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A copy of the bundled rulebooks and cases: the workbench writes into its folder."""
    root = tmp_path_factory.mktemp("bench")
    shutil.copytree(ROOT / "rulebooks", root / "rulebooks")
    for case in ("qixia-2021", "xingxian-2022-table"):
        shutil.copytree(ROOT / "examples" / case, root / "examples" / case)
    return root


@pytest.fixture(scope="module")
def client(folder) -> TestClient:
    with TestClient(serve.make_app(folder), base_url="http://127.0.0.1:8765", raise_server_exceptions=False) as c:
        yield c


def qixia(folder: Path) -> str:
    return (folder / QIXIA).read_text(encoding="utf-8")


def typo(text: str) -> str:
    return text.replace("替换 决策 权重 18", "替换 决策 权垂 18")


# ---- /api/files, /api/file -------------------------------------------------------------------------
def test_files_lists_rulebooks_with_their_names_and_parents_and_the_facts(client):
    got = client.get("/api/files").json()
    books = {b["path"]: b for b in got["rulebooks"]}
    assert books[QIXIA]["name"] == "栖霞-2021-乡村振兴扶贫资金"
    assert books[QIXIA]["parent"] == "财预2020-10-项目支出评价"
    kinds = {f["path"]: f["kind"] for f in got["facts"]}
    assert kinds[QIXIA_FACTS] == "file"
    assert kinds["examples/qixia-2021/facts-table.csv"] == "table"


def test_file_gives_the_text_and_the_hash_of_its_bytes(client, folder):
    got = client.get("/api/file", params={"path": QIXIA}).json()
    assert got["text"] == qixia(folder)
    assert got["hash"] == hashlib.sha256((folder / QIXIA).read_bytes()).hexdigest()


@pytest.mark.parametrize(("path", "status", "words"), [
    ("../etc/passwd", 403, "文件夹以外"),
    ("/etc/passwd", 403, "相对路径"),
    ("rulebooks/none.jx", 404, "找不到文件"),
    ("examples/qixia-2021/NOTES.md", 404, "不是规则集或事实文件"),
    ("", 400, "缺少文件路径"),
])
def test_file_outside_the_folder_missing_or_of_another_kind_is_refused_in_chinese(client, path, status, words):
    r = client.get("/api/file", params={"path": path})
    assert r.status_code == status
    assert words in r.json()["error"]["message"]


def test_a_symbolic_link_leading_out_of_the_folder_is_refused(client, folder, tmp_path):
    outside = tmp_path / "secret.jx"
    outside.write_text("规则集 秘密\n", encoding="utf-8")
    (folder / "link.jx").symlink_to(outside)
    try:
        r = client.get("/api/file", params={"path": "link.jx"})
        assert r.status_code == 403
    finally:
        (folder / "link.jx").unlink()


# ---- /api/check ------------------------------------------------------------------------------------
def test_check_gives_the_tree_with_sums_sources_and_what_the_child_changed(client, folder):
    got = client.post("/api/check", json={"text": qixia(folder), "path": QIXIA}).json()
    assert got["ok"] and got["errors"] == []
    tree = got["tree"]
    assert tree["files"] == ["rulebooks/national/project-expenditure.jx", QIXIA]
    rows = {tuple(r["path"]): r for r in tree["indicators"]}
    top = rows[("决策",)]
    assert (top["weight"], top["children_sum"], top["sum_ok"], top["status"]) == ("18", "18", True, "changed")
    assert "权重：20 → 18" in top["changes"]
    assert top["source"] == f"{QIXIA}:66"
    assert tree["removed"], "Qixia replaces whole groups of the national framework"
    assert [g["grade"] for g in tree["grades"]] == ["优", "良", "中", "差"]


def test_check_of_a_typo_gives_the_located_chinese_error_with_its_extent_and_no_tree(client, folder):
    got = client.post("/api/check", json={"text": typo(qixia(folder)), "path": QIXIA}).json()
    assert not got["ok"] and got["tree"] is None
    (err,) = got["errors"]
    assert (err["file"], err["line"], err["column"], err["end_line"], err["end_column"]) == (QIXIA, 66, 7, 66, 9)
    assert err["kind"] == "语法错误" and err["hint"] == "是否应为“权重”？"
    # the excerpt is the edited text's line, not the saved file's
    assert err["text"].splitlines()[1].strip() == "66 | 替换 决策 权垂 18"


def test_check_reports_every_link_error_as_check_does(client, folder):
    text = qixia(folder).replace("  项目立项 权重 4", "  项目立项 权重 5", 1)
    got = client.post("/api/check", json={"text": text, "path": QIXIA}).json()
    messages = [e["message"] for e in got["errors"]]
    assert any("与本级权重 5 不符" in m for m in messages) and any("与本级权重 18 不符" in m for m in messages)
    assert all(e["line"] and e["end_column"] > e["column"] for e in got["errors"])


def test_check_of_a_new_file_resolves_its_parent_by_name(client):
    text = "规则集 试验 继承 财预2020-10-项目支出评价\n调整 决策 权重 20\n"
    got = client.post("/api/check", json={"text": text, "path": "rulebooks/新的.jx"}).json()
    assert got["ok"], got["errors"]
    statuses = {r["status"] for r in got["tree"]["indicators"]}
    assert statuses <= {"inherited", "changed"} and "inherited" in statuses


@pytest.mark.parametrize(("body", "status", "words"), [
    (b"not json", 400, "JSON"),
    (b"[1, 2]", 400, "JSON 对象"),
    (json.dumps({"path": QIXIA}).encode(), 400, "缺少“text”"),
    (json.dumps({"text": 5, "path": QIXIA}).encode(), 400, "缺少“text”"),
    (json.dumps({"text": "", "path": "x.yaml"}).encode(), 400, ".jx"),
    (json.dumps({"text": "", "path": "../x.jx"}).encode(), 403, "文件夹以外"),
    (b"\xff\xfe", 400, "UTF-8"),
])
def test_bad_check_requests_are_4xx_with_a_chinese_message(client, body, status, words):
    r = client.post("/api/check", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status
    assert words in r.json()["error"]["message"]


def test_a_request_over_2_mb_is_refused_before_it_is_read(client):
    r = client.post("/api/check", content=b'{"text": "' + b"a" * (serve.MAX_BODY + 1) + b'"}', headers={"content-type": "application/json"})
    assert r.status_code == 413 and "2 MB" in r.json()["error"]["message"]


def test_unknown_address_and_method_are_chinese_4xx(client):
    assert client.get("/api/none").status_code == 404
    r = client.get("/api/check")
    assert r.status_code == 405 and "POST" in r.json()["error"]["message"]


# ---- /api/score ------------------------------------------------------------------------------------
def test_score_gives_the_contract_json_and_the_explanation_of_explain(client, folder):
    got = client.post("/api/score", json={"text": qixia(folder), "path": QIXIA, "facts": QIXIA_FACTS}).json()
    assert (got["result"]["total"], got["result"]["grade"]) == (92.66, "优")
    assert got["projects"] == ["栖霞市2021年乡村振兴扶贫资金"]
    assert got["explanation"].startswith("栖霞市2021年乡村振兴扶贫资金：总分 92.66 / 100，等级 优")
    facts = {f["name"]: f for f in got["facts"]}
    assert facts["实际支出资金"]["unit"] == "万元"


def test_score_follows_the_edited_text_and_the_overrides(client, folder):
    edited = qixia(folder).replace("等级", "等级", 1)
    base = client.post("/api/score", json={"text": edited, "path": QIXIA, "facts": QIXIA_FACTS}).json()["result"]
    lower = client.post("/api/score", json={"text": edited, "path": QIXIA, "facts": QIXIA_FACTS,
                                            "overrides": {"实际支出资金": "2000万元"}}).json()["result"]
    assert lower["total"] != base["total"]


def test_score_picks_a_project_of_a_table(client, folder):
    book = "rulebooks/shanxi/xingxian-2022-self-eval.jx"
    text = (folder / book).read_text(encoding="utf-8")
    table = next(p for p in (folder / "examples" / "xingxian-2022-table").iterdir() if p.suffix in (".csv", ".xlsx"))
    rel = table.relative_to(folder).as_posix()
    first = client.post("/api/score", json={"text": text, "path": book, "facts": rel}).json()
    assert len(first["projects"]) == 6
    other = first["projects"][3]
    got = client.post("/api/score", json={"text": text, "path": book, "facts": rel, "project": other}).json()
    assert got["project"] == other and got["result"]["project"] == other


@pytest.mark.parametrize(("change", "status", "words"), [
    ({"text": None}, 400, "缺少“text”"),
    ({"facts": "examples/none.yaml"}, 404, "找不到事实文件"),
    ({"facts": "../../etc/passwd"}, 403, "文件夹以外"),
    ({"overrides": {"实际支出资金": 5}}, 400, "overrides"),
    ({"project": "没有的项目"}, 400, "没有的项目"),
    ({"project": 3}, 400, "project"),
])
def test_bad_score_requests_are_4xx(client, folder, change, status, words):
    body = {"text": qixia(folder), "path": QIXIA, "facts": QIXIA_FACTS, **change}
    body = {k: v for k, v in body.items() if v is not None}
    r = client.post("/api/score", json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]["message"]


def test_score_of_a_rulebook_with_errors_is_422_listing_them(client, folder):
    r = client.post("/api/score", json={"text": typo(qixia(folder)), "path": QIXIA, "facts": QIXIA_FACTS})
    assert r.status_code == 422
    assert r.json()["errors"][0]["line"] == 66


def test_a_fact_that_cannot_be_read_is_422_with_the_data_error(client, folder, tmp_path):
    bad = folder / "examples" / "bad.yaml"
    bad.write_text("项目: 甲\n事实: [1, 2\n", encoding="utf-8")
    try:
        r = client.post("/api/score", json={"text": qixia(folder), "path": QIXIA, "facts": "examples/bad.yaml"})
        assert r.status_code == 422
        err = r.json()["error"]
        assert err["file"] == "examples/bad.yaml" and err["kind"] == "数据错误"
    finally:
        bad.unlink()


# ---- /api/save -------------------------------------------------------------------------------------
def test_save_writes_atomically_and_refuses_a_stale_hash(client, folder):
    path = "rulebooks/保存试验.jx"
    text = "规则集 保存试验 继承 财预2020-10-项目支出评价\n"
    got = client.post("/api/save", json={"path": path, "text": text, "hash": None}).json()
    assert (folder / path).read_text(encoding="utf-8") == text
    assert got["hash"] == hashlib.sha256(text.encode()).hexdigest()
    # saving again as a new file: it exists now
    r = client.post("/api/save", json={"path": path, "text": text + "# 2\n", "hash": None})
    assert r.status_code == 409 and r.json()["hash"] == got["hash"]
    # someone else changed it on disk: the edit started from an older hash is refused, nothing written
    (folder / path).write_text(text + "# 别人\n", encoding="utf-8")
    r = client.post("/api/save", json={"path": path, "text": text + "# 我\n", "hash": got["hash"]})
    assert r.status_code == 409 and "编辑期间被修改过" in r.json()["error"]["message"]
    assert (folder / path).read_text(encoding="utf-8").endswith("# 别人\n")
    current = r.json()["hash"]
    ok = client.post("/api/save", json={"path": path, "text": text + "# 我\n", "hash": current})
    assert ok.status_code == 200
    assert not [p for p in (folder / "rulebooks").iterdir() if p.name.startswith(".jxdsl-")], "no temporary file left"
    (folder / path).unlink()


@pytest.mark.parametrize(("body", "status"), [
    ({"path": "examples/qixia-2021/facts.yaml", "text": "x", "hash": None}, 400),
    ({"path": "../escape.jx", "text": "x", "hash": None}, 403),
    ({"path": "rulebooks", "text": "x", "hash": None}, 400),
    ({"path": "rulebooks/x.jx", "hash": None}, 400),
])
def test_bad_saves_are_refused_and_write_nothing(client, folder, body, status):
    before = sorted(p.name for p in folder.rglob("*"))
    r = client.post("/api/save", json=body)
    assert r.status_code == status
    assert sorted(p.name for p in folder.rglob("*")) == before


# ---- limits and defects ----------------------------------------------------------------------------
def test_work_over_the_time_limit_is_504(monkeypatch, folder):
    import time

    monkeypatch.setattr(serve, "TIME_LIMIT", 0.2)
    monkeypatch.setattr(serve, "api_check", lambda folder, body: time.sleep(1))
    with TestClient(serve.make_app(folder), base_url="http://127.0.0.1") as c:
        r = c.post("/api/check", json={"text": "", "path": "a.jx"})
    assert r.status_code == 504 and "30" not in r.json()["error"]["message"]


def test_a_defect_is_a_500_with_a_chinese_message_and_no_traceback(monkeypatch, folder, capsys):
    def broken(folder, body):
        raise KeyError("内部")

    monkeypatch.setattr(serve, "api_check", broken)
    with TestClient(serve.make_app(folder), base_url="http://127.0.0.1") as c:
        r = c.post("/api/check", json={"text": "", "path": "a.jx"})
    assert r.status_code == 500
    assert "Traceback" not in r.text and "内部错误" in r.json()["error"]["message"]
    assert "KeyError" in capsys.readouterr().err  # logged for the maintainer


@pytest.mark.parametrize(("headers", "status", "words"), [
    ({"content-type": "text/plain"}, 415, "application/json"),  # what a cross-site page may send without asking
    ({"content-type": "application/x-www-form-urlencoded"}, 415, "application/json"),
    ({"content-type": "application/json", "origin": "http://evil.example"}, 403, "其他网站"),
    ({"content-type": "application/json", "origin": "http://127.0.0.1:9999"}, 403, "其他网站"),
    ({"content-type": "application/json", "host": "evil.example:8765"}, 403, "本机"),  # DNS rebinding
])
def test_requests_another_site_could_make_the_browser_send_are_refused_and_write_nothing(client, folder, headers, status, words):
    path = folder / "rulebooks" / "跨站.jx"
    body = json.dumps({"path": "rulebooks/跨站.jx", "text": "规则集 跨站\n", "hash": None})
    r = client.post("/api/save", content=body.encode(), headers=headers)
    assert r.status_code == status and words in r.json()["error"]["message"]
    assert not path.exists()
    if "host" in headers:
        assert client.get("/api/files", headers=headers).status_code == 403


def test_the_same_origin_and_a_host_opened_to_all_are_served(client, folder):
    ok = client.post("/api/check", json={"text": "", "path": "a.jx"}, headers={"origin": "http://127.0.0.1:8765"})
    assert ok.status_code == 200
    with TestClient(serve.make_app(folder, open_to_all=True), base_url="http://192.168.1.5:8765") as c:
        assert c.get("/api/files").status_code == 200


def test_the_page_and_its_files_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text.replace("http://127.0.0.1", "") and "https://" not in page.text
    assert client.get("/static/../serve.py").status_code == 404
    assert client.get("/static/.hidden").status_code == 404


def test_serve_binds_to_localhost_by_default():
    from jxdsl.cli import serve_cmd

    host = next(p for p in serve_cmd.params if p.name == "host")
    assert host.default == "127.0.0.1"


# ---- /api/solve ------------------------------------------------------------------------------------
def solve_body(folder, **change):
    return {"text": qixia(folder), "path": QIXIA, "facts": QIXIA_FACTS, "fact": "实际支出资金", **change}


def test_solve_gives_the_exact_boundary_and_rescoring_there_reaches_the_goal(client, folder):
    got = client.post("/api/solve", json=solve_body(folder, goal={"kind": "grade", "grade": "优"})).json()
    assert got["met"] and got["side"] == "至少" and got["grade"] == "优"
    at = client.post("/api/score", json={**solve_body(folder), "overrides": {"实际支出资金": got["text"]}}).json()["result"]
    assert at["grade"] == "优" and at["total"] >= 90
    below = f"{float(got['value']) - 0.0001:.4f}{got['unit']}"
    under = client.post("/api/score", json={**solve_body(folder), "overrides": {"实际支出资金": below}}).json()["result"]
    assert under["total"] < 90


def test_solve_says_when_no_value_reaches_the_goal(client, folder):
    got = client.post("/api/solve", json=solve_body(folder, goal={"kind": "total", "points": "99.9"})).json()
    assert not got["reachable"] and "最高只能达到" in got["sentence"]


@pytest.mark.parametrize(("change", "status", "words"), [
    ({"goal": {"kind": "best"}}, 400, "kind"),
    ({"goal": "优"}, 400, "kind"),
    ({"goal": {"kind": "total"}}, 400, "points"),
    ({"goal": {"kind": "full"}}, 400, "指标路径"),
    ({"goal": {"kind": "grade", "grade": "特优"}}, 400, "特优"),
    ({"goal": {"kind": "next"}, "fact": None}, 400, "fact"),
    ({"goal": {"kind": "next"}, "fact": "实际支出"}, 422, "实际支出资金"),
])
def test_bad_solve_requests_are_4xx(client, folder, change, status, words):
    body = {k: v for k, v in solve_body(folder, **change).items() if v is not None}
    r = client.post("/api/solve", json=body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert words in err["message"] + (err["hint"] or "")


# ---- /api/impact -----------------------------------------------------------------------------------
XING = "rulebooks/shanxi/xingxian-2022-self-eval.jx"
XING_TABLE = "examples/xingxian-2022-table/self-eval.csv"


def test_impact_against_the_parent_and_against_a_saved_file(client, folder):
    text = (folder / XING).read_text(encoding="utf-8")
    got = client.post("/api/impact", json={"text": text, "path": XING, "table": XING_TABLE}).json()
    assert got["projects"] == 6 and got["table"] == XING_TABLE and got["engine"] == "interpreter"
    assert sum(sum(row.values()) for row in got["matrix"].values()) == 6
    raised = text.replace('版本 "2022.1"', '版本 "2022.1"\n等级 优 ≥99 良 ≥80 中 ≥60 差')  # the grades were inherited
    assert raised != text
    moved = client.post("/api/impact", json={"text": raised, "path": XING, "table": XING_TABLE, "old": {"path": XING}}).json()
    assert moved["old"] == moved["new"] == got["new"]
    assert moved["grade_changed"] >= 1 and moved["matrix"]["优"]["良"] >= 1


@pytest.mark.parametrize(("change", "status", "words"), [
    ({"table": "examples/none.csv"}, 404, "找不到表格"),
    ({"table": "../x.csv"}, 403, "文件夹以外"),
    ({"old": {"path": "rulebooks/none.jx"}}, 404, "找不到文件"),
    ({"old": "parent"}, 400, "old"),
    ({"engine": "spark"}, 400, "engine"),
])
def test_bad_impact_requests_are_4xx(client, folder, change, status, words):
    body = {"text": (folder / XING).read_text(encoding="utf-8"), "path": XING, "table": XING_TABLE, **change}
    r = client.post("/api/impact", json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]["message"]


def test_impact_of_a_rulebook_without_parent_needs_a_saved_file(client, folder):
    text = (folder / "rulebooks/national/self-eval.jx").read_text(encoding="utf-8")
    r = client.post("/api/impact", json={"text": text, "path": "rulebooks/national/self-eval.jx", "table": XING_TABLE})
    assert r.status_code == 422 and "没有继承" in r.json()["error"]["message"]


def test_a_port_already_taken_is_a_chinese_usage_error(folder):
    import socket

    from click.testing import CliRunner

    from jxdsl.cli import main

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        run = CliRunner().invoke(main, ["serve", str(folder), "--port", str(port)])
    assert run.exit_code == 2
    assert "端口已被占用" in run.output and f"--port {port + 1}" in run.output and "Traceback" not in run.output
