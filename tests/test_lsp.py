"""``jxdsl lsp`` driven as an editor drives it: a scripted client speaking JSON-RPC with
Content-Length framing to the server started as a subprocess over stdio."""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QIXIA = ROOT / "rulebooks" / "shandong" / "qixia-2021.jx"
NATIONAL = ROOT / "rulebooks" / "national" / "project-expenditure.jx"
TIMEOUT = 30


class Client:
    """A minimal LSP client: requests wait for their response; notifications are queued."""

    def __init__(self, cwd: Path):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "JXDSL_CACHE_DIR": str(cwd / "cache")}
        self.log = (cwd / "server.log").open("wb")  # a file, not a pipe nobody reads: the server may log much
        self.proc = subprocess.Popen([sys.executable, "-m", "jxdsl.cli", "lsp", "--stdio"], cwd=cwd, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        self.messages: queue.Queue = queue.Queue()
        self.next_id = 0
        self.opened: set[Path] = set()
        self.version = 1
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                header = out.readline()
                if not header:
                    return
                if header in (b"\r\n", b"\n"):
                    break
                name, _, value = header.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.messages.put(json.loads(out.read(length)))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}, ensure_ascii=False).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method: str, params) -> object:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            msg = self.messages.get(timeout=TIMEOUT)
            if msg.get("id") == self.next_id and "method" not in msg:
                assert "error" not in msg, msg
                return msg["result"]

    def notify(self, method: str, params) -> None:
        self.send({"method": method, "params": params})

    def diagnostics(self, uri: str, version: int) -> list[dict]:
        """The diagnostics published for this version of the document."""
        while True:
            msg = self.messages.get(timeout=TIMEOUT)
            p = msg.get("params") or {}
            if msg.get("method") == "textDocument/publishDiagnostics" and p["uri"] == uri and p.get("version") == version:
                return p["diagnostics"]

    def open(self, path: Path, text: str) -> list[dict]:
        self.opened.add(path)
        self.notify("textDocument/didOpen", {"textDocument": {"uri": path.as_uri(), "languageId": "jxdsl", "version": 1, "text": text}})
        return self.diagnostics(path.as_uri(), 1)

    def change(self, path: Path, text: str, version: int) -> list[dict]:
        self.notify("textDocument/didChange", {"textDocument": {"uri": path.as_uri(), "version": version}, "contentChanges": [{"text": text}]})
        return self.diagnostics(path.as_uri(), version)

    def edit(self, path: Path, text: str) -> list[dict]:
        """The document's next version (opened first if this worker's server has not seen it)."""
        if path not in self.opened:
            return self.open(path, text)
        self.version += 1
        return self.change(path, text, self.version)

    def fresh(self, path: Path) -> str:
        """The saved text as the document's next version, whatever an earlier test left in it."""
        text = path.read_text(encoding="utf-8")
        assert self.edit(path, text) == []
        return text

    def at(self, method: str, path: Path, line: int, character: int):
        return self.request(method, {"textDocument": {"uri": path.as_uri()}, "position": {"line": line, "character": character}})

    def close(self) -> int:
        assert self.request("shutdown", None) is None
        self.notify("exit", None)
        return self.proc.wait(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A Qixia copy in a folder of its own (its parent is found by name in jxdsl's library), and the
    server, started once for the module and stopped by the last test."""
    folder = tmp_path_factory.mktemp("lsp")
    copy = folder / "qixia.jx"
    shutil.copyfile(QIXIA, copy)
    client = Client(folder)
    client.request("initialize", {"processId": None, "rootUri": folder.as_uri(), "capabilities": {}})
    client.notify("initialized", {})
    yield client, copy
    _stop(client)


def _stop(client: Client) -> None:
    if client.proc.poll() is None:
        try:
            client.close()
        except (OSError, queue.Empty, subprocess.TimeoutExpired):  # a server that no longer answers
            client.proc.kill()
            client.proc.wait()
    client.reader.join(timeout=TIMEOUT)
    for stream in (client.proc.stdin, client.proc.stdout, client.log):
        stream.close()


def _where(text: str, needle: str) -> tuple[int, int]:
    """0-based line and UTF-16 column of ``needle``: what an editor sends and expects."""
    before = text[: text.index(needle)]
    line = before.count("\n")
    last = before.rsplit("\n", 1)[-1]
    return line, len(last.encode("utf-16-le")) // 2


def test_typo_is_underlined_in_chinese_then_cleared(work):
    client, copy = work
    good = copy.read_text(encoding="utf-8")
    bad = good.replace("  项目立项 权重 4", "  项目立项 权垂 4", 1)
    (diag,) = client.edit(copy, bad)
    line, col = _where(bad, "权垂 4")
    assert diag["range"] == {"start": {"line": line, "character": col}, "end": {"line": line, "character": col + 2}}
    assert diag["severity"] == 1 and diag["source"] == "jxdsl"
    assert diag["message"].startswith("此处不应出现“权垂”") and "提示：是否应为“权重”？" in diag["message"]
    # the other statements still parse: the names in them still lead to their definitions
    line, col = _where(bad, "过程 权重 22")
    (loc,) = _locations(client.at("textDocument/definition", copy, line, col))
    assert loc["uri"] == NATIONAL.as_uri()
    assert client.edit(copy, good) == []


def test_columns_are_utf16_code_units(work):
    """𠀀 is one character but two UTF-16 units: the underline must start one unit later than its
    character column."""
    client, copy = work
    good = copy.read_text(encoding="utf-8")
    bad = good.replace('标题 "栖霞市', '标题 "𠀀栖霞市', 1).replace('（2021年）"\n', '（2021年）" 多余\n', 1)
    (diag,) = client.edit(copy, bad)
    line, col = _where(bad, "多余")
    assert bad.split("\n")[line].index("多余") == col - 1
    assert diag["range"]["start"] == {"line": line, "character": col}
    assert diag["range"]["end"] == {"line": line, "character": col + 2}
    assert client.edit(copy, good) == []


def test_hover_on_an_indicator_and_a_fact(work):
    client, copy = work
    text = client.fresh(copy)
    line, col = _where(text, "过程 权重 22")
    got = client.at("textDocument/hover", copy, line, col + 1)["contents"]["value"]
    assert "**过程**" in got and "权重 22，下级合计 22" in got
    assert "本文件修改：权重：20 → 22" in got and f"定义于 {copy.name}:{line + 1}（" in got
    line, col = _where(text, "预算资金 金额")
    got = client.at("textDocument/hover", copy, line, col)["contents"]["value"]
    assert "（事实，金额）" in got and "读取它的指标：过程/资金管理/资金到位率/资金到位率" in got


def test_definition_goes_to_the_parent_rulebook(work):
    client, copy = work
    text = client.fresh(copy)
    national = NATIONAL.read_text(encoding="utf-8").split("\n")
    line, col = _where(text, "过程 权重 22")
    (loc,) = _locations(client.at("textDocument/definition", copy, line, col))
    assert loc["uri"] == NATIONAL.as_uri()
    assert national[loc["range"]["start"]["line"]].startswith("过程 权重 20")
    line, col = _where(text, "财预2020-10-项目支出评价")
    (loc,) = _locations(client.at("textDocument/definition", copy, line, col + 3))
    assert loc["uri"] == NATIONAL.as_uri() and loc["range"]["start"] == {"line": 0, "character": 0}
    line, col = _where(text, "产业项目完成数量 / 产业项目目标数量")
    (loc,) = _locations(client.at("textDocument/definition", copy, line, col))
    assert loc["uri"] == copy.as_uri() and text.split("\n")[loc["range"]["start"]["line"]].strip().startswith("产业项目完成数量 数量")


def _locations(got) -> list[dict]:
    return got if isinstance(got, list) else [got]


def test_completion_offers_the_grammars_keywords_and_indicator_paths(work):
    client, copy = work
    text = client.fresh(copy)
    grammar = re.sub(r"//[^\n]*", "", (ROOT / "grammar" / "jxdsl.lark").read_text(encoding="utf-8"))
    keywords = set(re.findall(r'"([\u4e00-\u9fff]{2,})"', grammar))
    line = text.split("\n").index("替换 决策 权重 18")
    labels = {item["label"] for item in client.at("textDocument/completion", copy, line, 3)["items"]}
    assert keywords <= labels and {"权重", "来自目标表"} <= keywords
    assert {"决策/项目立项", "产出/产出数量", "预算资金", "资金到位率"} <= labels
    # on a 替换 line, the parent's paths too: the national framework's 资金分配合理性 is not Qixia's
    assert "决策/资金投入/资金分配合理性" in labels


def test_an_error_in_the_parent_is_shown_at_the_inherit_line(work, tmp_path):
    client, _ = work
    (tmp_path / "parent.jx").write_text("规则集 父\n决策 权重 10 得分 = 缺少的值\n", encoding="utf-8")
    child = tmp_path / "child.jx"
    (diag,) = client.open(child, "规则集 子 继承 parent.jx\n调整 决策 权重 10\n")
    assert diag["range"] == {"start": {"line": 0, "character": 9}, "end": {"line": 0, "character": 18}}
    assert diag["message"].startswith("被继承的规则集有错误") and "缺少的值" in diag["message"]
    (related,) = diag["relatedInformation"]
    assert related["location"]["uri"] == (tmp_path / "parent.jx").as_uri()
    assert related["location"]["range"]["start"]["line"] == 1


def test_a_warning_is_a_warning_and_an_own_indicator_is_defined_here(work, tmp_path):
    client, _ = work
    book = tmp_path / "own.jx"
    (diag,) = client.open(book, "规则集 甲\n决策 权重 10 酌情\n")
    assert diag["severity"] == 2 and diag["message"].startswith("一级指标权重之和为 10，不是 100")
    got = client.at("textDocument/hover", book, 1, 1)
    assert got["range"] == {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 2}}
    assert "计分规则：酌情" in got["contents"]["value"] and f"定义于 {book}:2（本文件定义）" in got["contents"]["value"]
    (loc,) = _locations(client.at("textDocument/definition", book, 1, 0))
    assert loc["uri"] == book.as_uri() and loc["range"]["start"] == {"line": 1, "character": 0}


def test_occurrences_of_a_path_follow_the_ast():
    """Each segment of a path after 删除 names the parent's indicator at its depth; a quoted name
    spans its quotes; names read in a formula and declared facts are found at their spans."""
    from jxdsl.lsp import Occurrence, occurrences
    from jxdsl.parse import parse

    text = "规则集 乙 继承 甲\n事实\n  亩数 数值\n删除 产出 / “复合肥+缓控释肥”\n产出 权重 5 得分 = 亩数 / 10\n"
    got = occurrences(parse(text, "乙.jx"), text)
    assert got == [
        Occurrence(1, 10, 11, "parent", ("甲",)),
        Occurrence(3, 3, 5, "fact", ("亩数",)),
        Occurrence(4, 4, 6, "indicator", ("产出",), in_parent=True),
        Occurrence(4, 9, 19, "indicator", ("产出", "复合肥+缓控释肥"), in_parent=True),
        Occurrence(5, 1, 3, "indicator", ("产出",)),
        Occurrence(5, 14, 16, "value", ("亩数",)),
    ]


def test_utf32_when_the_client_asks_then_shutdown_and_exit(tmp_path):
    """A server of its own (the module's server stays up for whichever test runs last): a client
    that prefers UTF-32 gets columns in characters; shutdown and exit end the process with 0."""
    client = Client(tmp_path)
    try:
        caps = {"general": {"positionEncodings": ["utf-32", "utf-16"]}}
        got = client.request("initialize", {"processId": None, "rootUri": None, "capabilities": caps})["capabilities"]
        assert got["positionEncoding"] == "utf-32" and got["hoverProvider"]
        copy = tmp_path / "qixia.jx"
        shutil.copyfile(QIXIA, copy)
        bad = copy.read_text(encoding="utf-8").replace('标题 "栖霞市', '标题 "𠀀栖霞市', 1).replace('（2021年）"\n', '（2021年）" 多余\n', 1)
        (diag,) = client.open(copy, bad)
        line, _ = _where(bad, "多余")
        assert diag["range"]["start"] == {"line": line, "character": bad.split("\n")[line].index("多余")}
        assert client.close() == 0
    finally:
        _stop(client)
