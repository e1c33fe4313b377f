"""``jxdsl serve``: the rulebook workbench, a local web app over a folder of rulebooks and facts.

Starlette (routing, requests) on uvicorn (the HTTP server): both small and well kept, and the page's
files are served from ``jxdsl/web`` so it works on an intranet with no internet.  Every answer comes
from the library (``workbench``, ``whatif``, ``impact``), never from code of its own: the page
shows what ``check``, ``explain``, ``solve`` and ``diff --on`` print.  The JSON shapes are in
docs/api.md.  Bad input is a 4xx with the Chinese error; the work of a request runs in a worker
thread under a time limit; only files inside the folder can be read or written.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path

from jxdsl.errors import JxError, UsageError

MAX_BODY = 2_000_000  # bytes of a request body (docs/api.md)
TIME_LIMIT = 30.0  # seconds of work per request
MAX_LISTED = 5000
AUTO_DUCKDB_BYTES = 5_000_000  # /api/impact: a table file larger than this is scored by DuckDB, a smaller one by the interpreter  # files listed by /api/files
RULEBOOK_SUFFIXES = (".jx",)
FACTS_SUFFIXES = (".yaml", ".yml", ".json", ".csv", ".xlsx", ".xlsm", ".parquet")
SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache"}
WEB = Path(__file__).with_name("web")
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".json": "application/json", ".png": "image/png", ".svg": "image/svg+xml", ".woff2": "font/woff2"}


class ApiError(Exception):
    """A request the workbench refuses: an HTTP status and a Chinese message."""

    def __init__(self, status: int, message: str, hint: str | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.hint, self.extra = status, message, hint, extra


class Folder:
    """The folder the workbench opened: paths in and out of the API are relative to it."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise UsageError(f"找不到文件夹“{root}”")

    def path(self, rel, must_exist: bool = True) -> Path:
        """A path given by the page, inside the folder (symbolic links followed), else 403/404."""
        if not isinstance(rel, str) or not rel or "\0" in rel or len(rel) > 1000:
            raise ApiError(400, "缺少文件路径，或路径不是文字")
        if Path(rel).is_absolute() or rel.startswith(("\\", "/")):
            raise ApiError(403, f"只能使用打开的文件夹中的文件（相对路径）：“{rel}”")
        full = (self.root / rel).resolve()
        if full != self.root and self.root not in full.parents:
            raise ApiError(403, f"“{rel}”在打开的文件夹以外")
        if must_exist and not full.is_file():
            raise ApiError(404, f"找不到文件“{rel}”")
        return full

    def shown(self, file: str | None) -> str | None:
        """A file name as the page shows it: relative to the folder when inside it."""
        if file is None:
            return None
        full = Path(os.path.abspath(file))
        try:
            return full.relative_to(self.root).as_posix()
        except ValueError:
            try:
                return full.resolve().relative_to(self.root).as_posix()
            except (ValueError, OSError):
                return file

    def listing(self) -> dict:
        from jxdsl.library import Entry, read_entry

        books, facts = [], []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith(".") or len(books) + len(facts) >= MAX_LISTED:
                    continue
                full = Path(dirpath) / name
                rel = full.relative_to(self.root).as_posix()
                suffix = full.suffix.lower()
                if suffix in RULEBOOK_SUFFIXES:
                    entry = read_entry(Entry(name, full, ""))
                    books.append({"path": rel, "name": _declared(full) or full.stem, "parent": entry.parent,
                                  "title": entry.title, "version": entry.version, "problem": entry.problem})
                elif suffix in FACTS_SUFFIXES:
                    facts.append({"path": rel, "kind": "file" if suffix in (".yaml", ".yml", ".json") else "table"})
        return {"folder": str(self.root), "rulebooks": books, "facts": facts}


def _declared(path: Path) -> str | None:
    from jxdsl.resolve import declared_name

    return declared_name(path)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- what each endpoint does (plain functions: the tests and the language server can call them) ----
def _text(body: dict, key: str = "text") -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise ApiError(400, f"请求中缺少“{key}”（规则集文本）" if key == "text" else f"“{key}”应是文字")
    return value


def _rulebook_path(folder: Folder, body: dict) -> Path:
    rel = body.get("path") or "未命名.jx"
    full = folder.path(rel, must_exist=False)
    if full.suffix.lower() not in RULEBOOK_SUFFIXES:
        raise ApiError(400, f"规则集文件应以 .jx 结尾：“{rel}”")
    return full


def _problems(errors, sources, folder: Folder) -> list[dict]:
    from jxdsl.workbench import problem_json

    return [problem_json(e, sources, folder.shown) for e in errors]


def api_check(folder: Folder, body: dict) -> dict:
    from jxdsl.workbench import check, tree_json

    started = time.perf_counter()
    path = _rulebook_path(folder, body)
    text = _text(body)
    got = check(path, text)
    tree = tree_json(got.tree, path, shown=folder.shown) if got.tree is not None else None
    return {"ok": got.book is not None, "errors": _problems(got.errors, got.sources, folder),
            "warnings": _problems(got.warnings, got.sources, folder), "tree": tree,
            "ms": round((time.perf_counter() - started) * 1000, 1)}


def _linked(folder: Folder, body: dict):
    """The edited rulebook linked, or a 422 listing its errors."""
    from jxdsl.workbench import check

    path = _rulebook_path(folder, body)
    got = check(path, _text(body))
    if got.book is None:
        raise ApiError(422, "规则集有错误，先改正再计分", errors=_problems(got.errors, got.sources, folder))
    return got.book


def _project(folder: Folder, body: dict, book, key: str = "facts"):
    from jxdsl.workbench import project_inputs

    facts = folder.path(body.get(key), must_exist=False)
    if not (facts.is_file() or facts.is_dir()):
        raise ApiError(404, f"找不到事实文件“{body.get(key)}”")
    project = body.get("project")
    if project is not None and not isinstance(project, str):
        raise ApiError(400, "“project”应是项目名称")
    return project_inputs(book, facts, project)


def _overrides(body: dict) -> dict[str, str]:
    got = body.get("overrides") or {}
    if not isinstance(got, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in got.items()):
        raise ApiError(400, "“overrides”应是“事实名: 值”的映射，值是文字（如“3000万元”）")
    return got


def api_score(folder: Folder, body: dict) -> dict:
    from jxdsl.workbench import numeric_facts, score

    book = _linked(folder, body)
    names, inputs = _project(folder, body, book)
    got = score(book, inputs, _overrides(body))
    return {"ok": True, "projects": names, "project": inputs.project, **got, "facts": numeric_facts(book, inputs)}


def api_solve(folder: Folder, body: dict) -> dict:
    from jxdsl import whatif

    book = _linked(folder, body)
    _, inputs = _project(folder, body, book)
    fact = body.get("fact")
    if not isinstance(fact, str) or not fact:
        raise ApiError(400, "请求中缺少“fact”（要求解的事实名）")
    goal = whatif.goal_of(body.get("goal"))
    return whatif.to_json(whatif.solve(book, inputs, fact, goal))


def api_impact(folder: Folder, body: dict) -> dict:
    from jxdsl import impact
    from jxdsl.workbench import link

    book = _linked(folder, body)
    old = body.get("old") or {"parent": True}
    if not isinstance(old, dict):
        raise ApiError(400, "“old”应是 {\"path\": 已保存的规则集} 或 {\"parent\": true}")
    if old.get("parent"):
        if book.parent is None or len(book.files) < 2:
            raise ApiError(422, "这个规则集没有继承父规则集，请选择要比较的已保存规则集")
        old_book = link(book.files[-2])
    else:
        old_book = link(folder.path(old.get("path")))
    table = folder.path(body.get("table"), must_exist=False)
    if not (table.is_file() or table.is_dir()):
        raise ApiError(404, f"找不到表格“{body.get('table')}”")
    engine = body.get("engine") or "auto"
    if engine not in ("auto", "duckdb", "interpreter"):
        raise ApiError(400, "“engine”只能是 auto、duckdb 或 interpreter")
    if engine == "auto":  # both give the same numbers (tests/test_impact.py); DuckDB pays off on big tables
        engine = "duckdb" if table.is_dir() or table.stat().st_size > AUTO_DUCKDB_BYTES else "interpreter"
    got = impact.to_json(impact.impact(old_book, book, table, engine=engine))
    got["table"] = folder.shown(got["table"])
    return got


def api_file(folder: Folder, rel) -> dict:
    full = folder.path(rel)
    if full.suffix.lower() not in RULEBOOK_SUFFIXES + FACTS_SUFFIXES[:3]:
        raise ApiError(404, f"“{rel}”不是规则集或事实文件")
    from jxdsl.files import read_regular

    data, longer = read_regular(full, MAX_BODY)
    if longer:
        raise ApiError(413, f"“{rel}”超过 2 MB，不能在工作台中编辑")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(422, f"“{rel}”不是 UTF-8 编码的文字") from None
    return {"path": rel, "text": text, "hash": digest(data)}


_SAVING = threading.Lock()


def api_save(folder: Folder, body: dict) -> dict:
    """Write a rulebook atomically; refuse (409) when the file changed since the edit began."""
    from jxdsl.files import read_regular
    from jxdsl.outfile import staged

    rel = body.get("path")
    full = folder.path(rel, must_exist=False)
    if full.suffix.lower() not in RULEBOOK_SUFFIXES:
        raise ApiError(400, f"工作台只保存规则集（.jx）：“{rel}”")
    text = _text(body)
    base = body.get("hash")
    with _SAVING:
        current = None
        if full.exists():
            if not full.is_file():
                raise ApiError(400, f"“{rel}”不是普通文件")
            data, _ = read_regular(full, 10 * MAX_BODY)
            current = digest(data)
        if current != base:
            what = "已被删除" if current is None else ("已存在" if base is None else "在你编辑期间被修改过")
            raise ApiError(409, f"“{rel}”{what}，没有保存", "比较两边的内容后再保存；你的修改仍在编辑器中", hash=current)
        data = text.encode("utf-8")
        full.parent.mkdir(parents=True, exist_ok=True)
        with staged(full) as tmp:
            tmp.write_bytes(data)
    return {"path": rel, "hash": digest(data)}


# ---- the ASGI app ------------------------------------------------------------------------------
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def make_app(root: str | Path, open_to_all: bool = False):
    """The workbench app for a folder.  Unless ``open_to_all`` (``--host 0.0.0.0``), it answers only
    requests addressed to this machine's loopback names: a web page elsewhere that makes the browser
    send to 127.0.0.1, directly or through a name that resolves there (DNS rebinding), gets 403."""
    import anyio
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    folder = Folder(root)
    limiter = anyio.CapacityLimiter(2)

    def refuse(err: ApiError) -> JSONResponse:
        body = {"error": {"kind": "请求错误", "message": err.message, "hint": err.hint, "text": err.message,
                          "file": None, "line": None, "column": None, "end_line": None, "end_column": None}}
        body.update(err.extra)
        return JSONResponse(body, status_code=err.status)

    async def run(work, *args) -> JSONResponse:
        try:
            with anyio.fail_after(TIME_LIMIT):
                got = await anyio.to_thread.run_sync(work, *args, limiter=limiter, abandon_on_cancel=True)
        except ApiError as e:
            return refuse(e)
        except UsageError as e:
            return JSONResponse({"error": _one(e, folder)}, status_code=404 if "找不到" in e.message else 400)
        except JxError as e:
            return JSONResponse({"error": _one(e, folder)}, status_code=422)
        except TimeoutError:
            return refuse(ApiError(504, f"计算超过 {TIME_LIMIT:g} 秒，已停止等待", "用更小的表格，或在命令行运行"))
        except Exception:  # a defect of jxdsl: logged for us, a message without a traceback for the page
            traceback.print_exc(file=sys.stderr)
            return refuse(ApiError(500, "jxdsl 内部错误（详情见运行 jxdsl serve 的窗口）", "请把这条消息和操作步骤告诉维护者"))
        return JSONResponse(got)

    async def body_of(request: Request) -> dict:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            raise ApiError(413, "请求过大（超过 2 MB）")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise ApiError(413, "请求过大（超过 2 MB）")
            chunks.append(chunk)
        try:
            got = json.loads(b"".join(chunks).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "请求不是 UTF-8 编码的 JSON") from None
        if not isinstance(got, dict):
            raise ApiError(400, "请求应是一个 JSON 对象")
        return got

    def foreign(request: Request) -> ApiError | None:
        """A request another site's page made the browser send: refused before it can read or write.
        A cross-site page can send a POST without asking (a "simple" request) only with a form or
        text type, so the API takes JSON only; a browser names the sending page's site in Origin."""
        host = (request.url.hostname or "").lower()
        if not open_to_all and host not in LOOPBACK:
            return ApiError(403, f"只接受发给本机（127.0.0.1）的请求，不接受发给“{host}”的", "在浏览器中打开 http://127.0.0.1:端口/")
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
            return ApiError(403, "不接受其他网站的页面发来的请求", "在浏览器中直接打开工作台的地址")
        return None

    def post(work):
        async def endpoint(request: Request):
            refused = foreign(request)
            if refused is None and request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
                refused = ApiError(415, "请求的 Content-Type 应为 application/json")
            if refused is not None:
                return refuse(refused)
            try:
                body = await body_of(request)
            except ApiError as e:
                return refuse(e)
            return await run(work, folder, body)

        return endpoint

    async def files(request: Request):
        refused = foreign(request)
        return refuse(refused) if refused else await run(folder.listing)

    async def file(request: Request):
        refused = foreign(request)
        return refuse(refused) if refused else await run(api_file, folder, request.query_params.get("path"))

    async def static(request: Request):
        name = request.path_params.get("name", "index.html")
        if "/" in name or "\\" in name or name.startswith("."):
            return Response("没有这个文件", status_code=404, media_type="text/plain; charset=utf-8")
        full = WEB / name
        if not full.is_file():
            return Response("没有这个文件", status_code=404, media_type="text/plain; charset=utf-8")
        return Response(full.read_bytes(), media_type=STATIC_TYPES.get(full.suffix, "application/octet-stream"),
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})

    routes = [
        Route("/", static), Route("/static/{name}", static),
        Route("/api/files", files), Route("/api/file", file),
        Route("/api/check", post(api_check), methods=["POST"]), Route("/api/score", post(api_score), methods=["POST"]),
        Route("/api/solve", post(api_solve), methods=["POST"]), Route("/api/impact", post(api_impact), methods=["POST"]),
        Route("/api/save", post(api_save), methods=["POST"]),
    ]

    async def not_found(request, exc):
        status = getattr(exc, "status_code", 404)
        message = {404: "没有这个地址", 405: "这个地址不接受这种请求（检查 GET/POST）"}.get(status, "请求错误")
        return refuse(ApiError(status, message))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        threading.Thread(target=_warm, daemon=True).start()
        yield

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found}, lifespan=lifespan)


def _warm() -> None:
    """Import the parser and the interpreter and build the parse tables before the first edit, so
    that the first check answers as fast as the next ones (~0.2 s saved)."""
    from jxdsl.errors import JxError
    from jxdsl.parse import parse

    with contextlib.suppress(JxError):
        parse("规则集 预热\n", "<预热>")
    import jxdsl.evaluate  # noqa: F401


def _one(err: JxError, folder: Folder) -> dict:
    from jxdsl.workbench import problem_json

    return problem_json(err, getattr(err, "sources", None) or {}, folder.shown)


def check_port(host: str, port: int) -> None:
    """A port already taken is a Chinese usage error (uvicorn would log an English line and exit 3)."""
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as e:
        raise UsageError(f"无法在 {host}:{port} 上启动：{'端口已被占用' if e.errno in (48, 98, 10048) else (e.strerror or e)}", None,
                         f"换一个端口：--port {port + 1 if port else 8766}") from None


def serve(root: str | Path, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run the workbench until Ctrl-C."""
    import uvicorn

    check_port(host, port)
    app = make_app(root, open_to_all=host not in LOOPBACK)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)


class Background:
    """The workbench in a thread on a free port, for the browser tests and the benchmarks."""

    def __init__(self, root: str | Path, host: str = "127.0.0.1"):
        import socket

        import uvicorn

        with socket.socket() as s:
            s.bind((host, 0))
            self.port = s.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(make_app(root), host=host, port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "Background":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("workbench server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
