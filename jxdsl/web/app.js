// The workbench page: files on the left, the rulebook editor in the middle, and on the right the
// indicator tree, the score, what-if and the impact of a change.  Every number shown comes from
// the JSON API (docs/api.md); the page computes nothing itself.
import { Highlighter } from "./highlight.js";
import { Editor } from "./editor.js";

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const CHECK_DELAY = 150; // ms: keystrokes closer than this are one burst, checked once it settles
const SLIDER_DELAY = 80;

// the state the tests and benchmarks read too (window.jxdsl)
const state = {
  folder: "", files: null, path: null, hash: null, saved: "", tree: null, lastGood: null, treeStale: false, grades: [],
  checkSeq: 0, checking: false, pending: false, scoreSeq: 0, slideSeq: 0, typedAt: null, lastCheck: null, facts: [], score: null,
};
window.jxdsl = state;
let editor = null;

async function api(method, url, body) {
  const init = { method, headers: { "Content-Type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    return { status: 0, data: { error: { message: "连接不上 jxdsl serve：它是否仍在运行？" } } };
  }
  let data;
  try {
    data = await response.json();
  } catch {
    data = { error: { message: `服务器的回答不是 JSON（状态 ${response.status}）` } };
  }
  return { status: response.status, data };
}

const errorText = (data) => (data && data.error ? data.error.message + (data.error.hint ? `（${data.error.hint}）` : "") : "未知错误");
const status = (text) => { $("status").textContent = text; };

// ---- files -------------------------------------------------------------------------------------
const unsavedKey = (path) => `jxdsl:unsaved:${state.folder}:${path}`;

function keepUnsaved() {
  if (!state.path) return;
  const text = editor.text;
  if (text === state.saved) localStorage.removeItem(unsavedKey(state.path));
  else localStorage.setItem(unsavedKey(state.path), JSON.stringify({ text, hash: state.hash }));
  showDirty();
}

function showDirty() {
  const dirty = state.path !== null && editor.text !== state.saved;
  $("dirty").hidden = !dirty;
  $("save").disabled = state.path === null;
  for (const li of document.querySelectorAll("#rulebooks li[data-path]")) {
    li.classList.toggle("unsaved", localStorage.getItem(unsavedKey(li.dataset.path)) !== null);
    li.classList.toggle("open", li.dataset.path === state.path);
  }
}

function listFiles(files) {
  state.files = files;
  state.folder = files.folder;
  $("rulebooks").innerHTML = files.rulebooks.map((b) =>
    `<li data-path="${esc(b.path)}" title="${esc(b.title || "")}">${esc(b.name)}<small>${esc(b.path)}</small></li>`).join("")
    || '<li class="muted">文件夹中没有规则集（.jx）</li>';
  $("factfiles").innerHTML = files.facts.map((f) =>
    `<li data-facts="${esc(f.path)}">${esc(f.path)}${f.kind === "table" ? " <small>表格</small>" : ""}</li>`).join("");
  $("facts-file").innerHTML = '<option value="">（不计分）</option>' +
    files.facts.map((f) => `<option value="${esc(f.path)}">${esc(f.path)}</option>`).join("");
  $("im-table").innerHTML = files.facts.filter((f) => f.kind === "table")
    .map((f) => `<option value="${esc(f.path)}">${esc(f.path)}</option>`).join("");
}

const fetchFile = (path) => api("GET", `/api/file?path=${encodeURIComponent(path)}`);

async function openFile(path, fetched = fetchFile(path)) {
  status("正在打开……");
  const { status: code, data } = await fetched;
  if (code !== 200) { status(errorText(data)); return; }
  state.path = path;
  state.hash = data.hash;
  state.saved = data.text;
  state.tree = state.lastGood = null;
  let text = data.text;
  const kept = JSON.parse(localStorage.getItem(unsavedKey(path)) || "null");
  if (kept && kept.text !== data.text) { // an edit not saved before the page closed: it comes back
    text = kept.text;
    state.hash = kept.hash;
  }
  $("current").textContent = path;
  editor.text = text;
  performance.mark("jxdsl:editor-shown"); // benchmarks/workbench.py: the rulebook coloured on screen
  history.replaceState(null, "", `#${encodeURIComponent(path)}`);
  localStorage.setItem("jxdsl:last", path);
  chooseFacts();
  fillImpactChoices();
  showDirty();
  check();
}

function chooseFacts() {
  const remembered = localStorage.getItem(`jxdsl:facts:${state.path}`);
  const stem = state.path.split("/").pop().replace(/\.jx$/, "");
  const facts = state.files.facts.map((f) => f.path);
  // a facts file beside the rulebook's example (examples/qixia-2021/ for qixia-2021.jx), files before tables
  const near = state.files.facts.filter((f) => f.path.includes(stem)).sort((a, b) => (a.kind === "file" ? 0 : 1) - (b.kind === "file" ? 0 : 1));
  $("facts-file").value = facts.includes(remembered) ? remembered : (near.length ? near[0].path : "");
  $("project").innerHTML = "";
}

// ---- check: errors and the tree -----------------------------------------------------------------
let checkTimer = null;
let lastTyped = -Infinity;

/** A keystroke after a pause is checked at once; the keystrokes of a burst, when it settles. */
function typed() {
  const now = performance.now();
  state.typedAt ??= now;
  keepUnsaved();
  clearTimeout(checkTimer);
  const burst = now - lastTyped < CHECK_DELAY || state.checking;
  lastTyped = now;
  state.pending = burst;
  if (burst) checkTimer = setTimeout(check, CHECK_DELAY);
  else check();
}

async function check() {
  state.pending = false;
  state.checking = true;
  const seq = ++state.checkSeq;
  const typedAt = state.typedAt;
  state.typedAt = null;
  const sent = performance.now();
  const text = editor.text;
  status("检查中……");
  const { status: code, data } = await api("POST", "/api/check", { text, path: state.path });
  const received = performance.now();
  if (seq !== state.checkSeq) return; // a newer check is on its way
  state.checking = false;
  if (code !== 200) {
    showProblems([{ message: errorText(data), line: null }], []);
    status("检查失败");
    return;
  }
  showProblems(data.errors, data.warnings);
  if (data.ok) state.lastGood = data.tree;
  // the tree comes back even with errors when the text still links (sums that do not agree);
  // otherwise the last tree of a text without errors stays, marked as such
  state.tree = data.tree || state.lastGood;
  state.treeStale = !data.tree && state.lastGood !== null;
  state.treeErrors = !data.ok && Boolean(data.tree);
  showTree();
  const done = performance.now();
  performance.mark("jxdsl:checked");
  state.lastCheck = { seq, ok: data.ok, server: data.ms, request: done - sent, response: received - sent,
    keystroke: typedAt === null ? null : done - typedAt };
  status(data.ok ? `无错误（检查用时 ${Math.round(data.ms)} 毫秒）` : `${data.errors.length} 个错误`);
  if (data.ok) score();
}

function showProblems(errors, warnings) {
  const mine = (p) => p.line != null && (p.file === null || p.file === state.path);
  const all = [...errors.map((p) => ({ ...p, severity: "error" })), ...warnings.map((p) => ({ ...p, severity: "warning" }))];
  editor.setProblems(all.filter(mine));
  $("problem-count").textContent = errors.length ? `${errors.length} 个错误` : "";
  $("problems").innerHTML = all.length === 0 ? '<li class="none">没有错误</li>' : all.map((p, i) => {
    const where = p.line == null ? "" : (p.file && p.file !== state.path ? `${p.file}:` : "") + `${p.line}:${p.column}`;
    return `<li class="${p.severity}" data-i="${i}"><span class="where">${esc(where)}</span>${esc(p.kind ? p.kind + "：" : "")}${esc(p.message)}` +
      (p.hint ? `<span class="hint">提示：${esc(p.hint)}</span>` : "") + "</li>";
  }).join("");
  $("problems").onclick = (e) => {
    const li = e.target.closest("li[data-i]");
    const p = li && all[Number(li.dataset.i)];
    if (p && mine(p)) editor.goTo(p.line, p.column);
  };
}

const STATUS_NAMES = { inherited: "继承", changed: "调整", added: "新增" };

function showTree() {
  const tree = state.tree;
  $("tree-note").textContent = state.treeStale ? "指标树（上次无误时）：当前文本有错误，连不成指标树。"
    : state.treeErrors ? "当前文本有错误；指标树按当前文本显示，✗ 表示下级权重之和与本级不符。" : "";
  if (!tree) {
    $("tree-head").textContent = "";
    $("tree").innerHTML = '<li class="muted">改正错误后显示指标树。</li>';
    $("removed").innerHTML = "";
    return;
  }
  state.grades = tree.grades.map((g) => g.grade);
  const bands = tree.grades.map((g) => (g.op ? `${g.grade} ${g.op} ${g.bound}` : g.grade)).join("，");
  $("tree-head").textContent = `${tree.name}${tree.parent ? `（继承 ${tree.parent}）` : ""}　满分 ${tree.max}　等级：${bands}`;
  $("tree").innerHTML = tree.indicators.map((ind, i) => {
    const hasChildren = ind.children_sum !== null && ind.children_sum !== undefined;
    const sum = hasChildren ? `<span class="sum${ind.sum_ok ? "" : " bad"}" title="下级权重之和">Σ ${esc(ind.children_sum)} ${ind.sum_ok ? "✓" : "✗"}</span>` : "";
    const badge = STATUS_NAMES[ind.status] ? `<span class="badge ${ind.status}" title="${esc((ind.changes || []).join("\n"))}">${STATUS_NAMES[ind.status]}</span>` : "";
    const file = (ind.file || "").split("/").pop();
    return `<li data-i="${i}" style="padding-left:${4 + ind.depth * 14}px" title="${esc((ind.changes || []).join("\n"))}">` +
      `<span class="name">${esc(ind.name)}</span><span class="weight">${esc(ind.weight)}</span>${sum}` +
      (ind.rule ? `<span class="rule">${esc(ind.rule)}</span>` : "") + badge +
      `<span class="src">${esc(file)}:${esc(ind.line)}</span></li>`;
  }).join("");
  $("tree").onclick = (e) => {
    const li = e.target.closest("li[data-i]");
    const ind = li && tree.indicators[Number(li.dataset.i)];
    if (ind && ind.file === state.path) editor.goTo(ind.line, 1);
  };
  $("removed").innerHTML = tree.removed.length ? "<h2>已删除的指标</h2><ul class=\"tree\">" +
    tree.removed.map((r) => `<li><span class="name">${esc(r.path.join(" / "))}</span><span class="rule">原为 ${esc(r.was)}</span></li>`).join("") + "</ul>" : "";
  $("wi-grade").innerHTML = state.grades.map((g) => `<option>${esc(g)}</option>`).join("");
  $("wi-indicator").innerHTML = tree.indicators.map((ind) => `<option value="${esc(JSON.stringify(ind.path))}">${esc(ind.path.join(" / "))}</option>`).join("");
}

// ---- score --------------------------------------------------------------------------------------
function scoreRequest(overrides) {
  const request = { text: editor.text, path: state.path, facts: $("facts-file").value, overrides: overrides || {} };
  if ($("project").value) request.project = $("project").value;
  return request;
}

async function score() {
  if (!$("facts-file").value || state.treeStale || !state.tree) return;
  const seq = ++state.scoreSeq;
  const { status: code, data } = await api("POST", "/api/score", scoreRequest());
  if (seq !== state.scoreSeq) return;
  if (code !== 200) {
    $("score-result").innerHTML = `<p class="error">${esc(errorText(data))}</p>`;
    $("explanation").textContent = "";
    return;
  }
  state.score = data;
  const chosen = $("project").value;
  $("project").innerHTML = data.projects.map((p) => `<option>${esc(p)}</option>`).join("");
  $("project").value = chosen && data.projects.includes(chosen) ? chosen : data.project;
  $("score-result").innerHTML = totalHtml(data.result);
  $("explanation").textContent = data.explanation;
  state.facts = data.facts;
  const fact = $("wi-fact").value;
  $("wi-fact").innerHTML = data.facts.map((f) => `<option value="${esc(f.name)}">${esc(f.name)}（${esc(f.text)}）</option>`).join("");
  if (data.facts.some((f) => f.name === fact)) $("wi-fact").value = fact;
  setSlider();
}

const totalHtml = (result) => `<span class="big" data-total>${esc(result.total)}</span> / ${esc(result.max)}` +
  `<span class="grade" data-grade>${esc(result.grade)}</span>` +
  (Number(result.bonus) || Number(result.penalty) ? `<div class="muted">加分 ${esc(result.bonus)}，扣分 ${esc(result.penalty)}</div>` : "");

// ---- what-if ------------------------------------------------------------------------------------
const plainDigits = (s) => s.replace(/[０-９．]/g, (c) => (c === "．" ? "." : String.fromCharCode(c.charCodeAt(0) - 0xfee0)));
const currentFact = () => state.facts.find((f) => f.name === $("wi-fact").value);
const factNumber = (fact) => parseFloat(plainDigits(fact.text));
const factUnit = (fact) => plainDigits(fact.text).replace(/^[-+]?[0-9.]+/, "");
const shown = (v) => String(Number(v.toFixed(6)));

function setSlider() {
  const fact = currentFact();
  const slider = $("wi-slider");
  slider.disabled = !fact;
  if (!fact) return;
  const now = factNumber(fact);
  const percent = /[%％]/.test(factUnit(fact));
  const top = percent ? Math.max(100, now * 1.2) : (now > 0 ? now * 2 : 10);
  slider.min = "0";
  slider.max = String(top);
  slider.step = "any"; // exact values too: a solved value is put on the slider as it is
  slider.value = String(now);
  $("wi-value").textContent = fact.text;
  $("wi-score").innerHTML = "";
}

let slideTimer = null;

function slid() {
  const fact = currentFact();
  if (!fact) return;
  const value = `${shown(Number($("wi-slider").value))}${factUnit(fact)}`;
  $("wi-value").textContent = value;
  clearTimeout(slideTimer);
  slideTimer = setTimeout(() => rescore(fact.name, value), SLIDER_DELAY);
}

/** The score with one fact set to a value (the slider, or a solved value). */
async function rescore(name, value) {
  const seq = ++state.slideSeq;
  const { status: code, data } = await api("POST", "/api/score", scoreRequest({ [name]: value }));
  if (seq !== state.slideSeq) return;
  $("wi-score").innerHTML = code === 200
    ? `<div class="muted">${esc(name)} = ${esc(value)} 时：</div>${totalHtml(data.result)}`
    : `<p class="error">${esc(errorText(data))}</p>`;
}

function goal() {
  const kind = $("wi-goal").value;
  if (kind === "grade") return { kind, grade: $("wi-grade").value };
  if (kind === "total") return { kind, points: $("wi-points").value.trim() };
  if (kind === "full") return { kind, indicator: JSON.parse($("wi-indicator").value || "[]") };
  if (kind === "indicator") return { kind, indicator: JSON.parse($("wi-indicator").value || "[]"), points: $("wi-points").value.trim() };
  return { kind };
}

async function solve() {
  const fact = $("wi-fact").value;
  if (!fact) { $("wi-result").innerHTML = '<p class="error">先在“得分”中计分，再选一项事实。</p>'; return; }
  $("wi-result").innerHTML = '<p class="muted">求解中……</p>';
  const { status: code, data } = await api("POST", "/api/solve", { ...scoreRequest(), fact, goal: goal() });
  if (code !== 200) { $("wi-result").innerHTML = `<p class="error">${esc(errorText(data))}</p>`; return; }
  const value = solvedText(data);
  const { sentence } = data;
  const details = Object.fromEntries(["fact", "wanted", "current", "text", "exact", "total", "grade", "met", "reachable"]
    .filter((k) => data[k] !== undefined && data[k] !== null).map((k) => [k, data[k]]));
  $("wi-result").innerHTML = (sentence ? `<p class="sentence">${esc(sentence)}</p>` : "") +
    (value ? `<p>所需的值：<b data-solved>${esc(value)}</b> <button type="button" id="wi-apply">用这个值计分</button></p>` : "") + fieldsHtml(details);
  if (value) $("wi-apply").onclick = () => {
    const number = parseFloat(plainDigits(value));
    if (!Number.isNaN(number)) $("wi-slider").value = String(number);
    $("wi-value").textContent = value;
    rescore(fact, value);
  };
}

/** The solved value as a fact's text ("312.7295万元"), null when the goal cannot be reached. */
const solvedText = (data) => (typeof data.text === "string" && data.text ? data.text : null);

// ---- impact -------------------------------------------------------------------------------------
function fillImpactChoices() {
  const others = state.files.rulebooks.filter((b) => b.path !== state.path);
  $("im-old").innerHTML = `<option value="saved">已保存的本文件</option><option value="parent">父规则集</option>` +
    others.map((b) => `<option value="${esc(b.path)}">${esc(b.path)}</option>`).join("");
}

async function impact() {
  const choice = $("im-old").value;
  const old = choice === "parent" ? { parent: true } : { path: choice === "saved" ? state.path : choice };
  $("im-result").innerHTML = '<p class="muted">计算中……</p>';
  const { status: code, data } = await api("POST", "/api/impact", { text: editor.text, path: state.path, old, table: $("im-table").value, engine: $("im-engine").value });
  $("im-result").innerHTML = code === 200 ? impactHtml(data) : `<p class="error">${esc(errorText(data))}</p>`;
}

/** The impact answer (jxdsl diff --on, docs/impact.md): counts, the grade matrix, before/after, the changed projects. */
function impactHtml(data) {
  const { categories = [], matrix, before, after, changed_projects: changed = [], failed_projects: failed = [], changes = [], ...rest } = data;
  let html = `<p class="sentence" data-counts>共 ${esc(data.projects)} 个项目：总分变化 ${esc(data.changed)} 个，等级变化 ${esc(data.grade_changed)} 个，` +
    `不变 ${esc(data.unchanged)} 个${data.failed ? `，无法计分 ${esc(data.failed)} 个` : ""}。</p>`;
  if (changes.length) {
    html += `<h2>规则差异（${changes.length} 处）</h2><ul class="changes">` + changes.map((c) =>
      `<li>${esc((c.path || []).join(" / ") || c.field || "")}${c.field && c.path && c.path.length ? ` ${esc(c.field)}` : ""}：${esc(c.old ?? "（无）")} → ${esc(c.new ?? "（无）")}</li>`).join("") + "</ul>";
  }
  if (matrix) {
    html += `<h2>等级转移（行：修改前，列：修改后）</h2><table data-key="matrix"><tr><th></th>${categories.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>` +
      categories.map((r) => `<tr><th>${esc(r)}</th>${categories.map((c) => {
        const n = (matrix[r] || {})[c] || 0;
        return `<td class="${n && r !== c ? "moved" : ""}">${n || ""}</td>`;
      }).join("")}</tr>`).join("") + "</table>";
  }
  if (before && after) {
    const row = (label, s) => `<tr><th class="text">${label}</th><td>${esc(s.mean)}</td><td>${esc(s.min)}</td><td>${esc(s.max)}</td>` +
      categories.map((c) => `<td>${esc((s.grades || {})[c] ?? 0)}</td>`).join("") + "</tr>";
    html += `<h2>得分分布</h2><table data-key="distribution"><tr><th></th><th>平均</th><th>最低</th><th>最高</th>${categories.map((c) => `<th>${esc(c)}</th>`).join("")}</tr>` +
      row("修改前", before) + row("修改后", after) + "</table>";
  }
  const projects = (title, list) => (list.length ? `<h2>${title}</h2><table data-key="changed"><tr><th class="text">项目</th><th>原总分</th><th>原等级</th><th>新总分</th><th>新等级</th><th>变化</th></tr>` +
    list.map((p) => `<tr><td class="text">${esc(p.project)}</td><td>${esc(p.old.total ?? p.old.error)}</td><td>${esc(p.old.grade)}</td>` +
      `<td>${esc(p.new.total ?? p.new.error)}</td><td>${esc(p.new.grade)}</td><td>${esc(p.delta)}</td></tr>`).join("") + "</table>" : "");
  html += projects("变化的项目", changed) + projects("无法计分的项目", failed);
  for (const key of ["projects", "changed", "grade_changed", "unchanged", "failed", "old", "new", "table", "engine"]) delete rest[key];
  return html + fieldsHtml(rest);
}

// fields of an answer shown as they come: a solve answer's details, and fields of an impact answer
// that this page does not know yet (a newer server)
const LABELS = {
  fact: "事实", wanted: "目标", current: "现值", text: "所需的值", exact: "精确值（分数）", total: "总分", grade: "等级",
  met: "现已达到", reachable: "能否达到",
};
const cell = (v) => (typeof v === "boolean" ? (v ? "是" : "否") : esc(typeof v === "object" && v !== null ? JSON.stringify(v) : v ?? ""));

function fieldsHtml(data) {
  const rows = Object.entries(data);
  return rows.length ? `<table>${rows.map(([k, v]) => `<tr><th class="text">${esc(LABELS[k] || k)}</th><td class="text">${cell(v)}</td></tr>`).join("")}</table>` : "";
}

// ---- save ---------------------------------------------------------------------------------------
async function save() {
  if (!state.path) return;
  const text = editor.text;
  status("保存中……");
  const { status: code, data } = await api("POST", "/api/save", { path: state.path, text, hash: state.hash });
  if (code === 200) {
    state.hash = data.hash;
    state.saved = text;
    keepUnsaved();
    status("已保存");
  } else if (code === 409) {
    $("conflict-message").textContent = errorText(data);
    const dialog = $("conflict");
    dialog.onclose = () => {
      if (dialog.returnValue === "mine") { state.hash = data.hash ?? null; save(); }
      if (dialog.returnValue === "theirs") { localStorage.removeItem(unsavedKey(state.path)); openFile(state.path); }
    };
    dialog.showModal();
    status("没有保存");
  } else {
    status(`没有保存：${errorText(data)}`);
  }
}

// ---- wiring -------------------------------------------------------------------------------------
function showTab(name) {
  for (const b of document.querySelectorAll(".tabs button")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  for (const p of document.querySelectorAll(".panel")) p.hidden = p.id !== `panel-${name}`;
}

function wire() {
  editor.input.addEventListener("input", typed);
  document.querySelector(".tabs").onclick = (e) => { if (e.target.dataset.tab) showTab(e.target.dataset.tab); };
  $("rulebooks").onclick = (e) => { const li = e.target.closest("li[data-path]"); if (li) openFile(li.dataset.path); };
  $("factfiles").onclick = (e) => {
    const li = e.target.closest("li[data-facts]");
    if (!li) return;
    $("facts-file").value = li.dataset.facts;
    $("facts-file").dispatchEvent(new Event("change"));
    showTab("score");
  };
  $("facts-file").onchange = () => {
    if (state.path) localStorage.setItem(`jxdsl:facts:${state.path}`, $("facts-file").value);
    $("project").innerHTML = "";
    score();
  };
  $("project").onchange = score;
  $("wi-fact").onchange = setSlider;
  $("wi-goal").onchange = () => {
    const kind = $("wi-goal").value;
    $("wi-grade").hidden = kind !== "grade";
    $("wi-points").hidden = kind !== "total" && kind !== "indicator";
    $("wi-indicator").hidden = kind !== "full" && kind !== "indicator";
  };
  $("wi-solve").onclick = solve;
  $("wi-slider").oninput = slid;
  $("wi-reset").onclick = () => { setSlider(); };
  $("im-run").onclick = impact;
  $("save").onclick = save;
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") { e.preventDefault(); save(); }
  });
  window.addEventListener("hashchange", () => { // a link to another rulebook of the folder: #rulebooks/…/x.jx
    const path = decodeURIComponent(location.hash.slice(1));
    if (path !== state.path && state.files.rulebooks.some((b) => b.path === path)) openFile(path);
  });
  // facts edited in another program (the YAML in Notepad, the table in Excel): scored again when the page is looked at again
  window.addEventListener("focus", () => { score(); });
  window.addEventListener("beforeunload", (e) => {
    if (state.path && editor.text !== state.saved) { e.preventDefault(); e.returnValue = ""; }
  });
}

async function start() {
  // the grammar, the folder's listing and the rulebook to open are asked for at once
  const grammar = fetch("/static/jxdsl.tmLanguage.json").then((r) => r.json());
  const files = api("GET", "/api/files");
  const wanted = decodeURIComponent(location.hash.slice(1)) || localStorage.getItem("jxdsl:last");
  const early = wanted ? fetchFile(wanted) : null;
  editor = new Editor($("editor"), new Highlighter(await grammar));
  wire();
  const { status: code, data } = await files; // first: its folder names the unsaved texts kept for it
  if (code !== 200) { status(errorText(data)); return; }
  listFiles(data);
  const first = data.rulebooks.find((b) => b.path === wanted) || data.rulebooks[0];
  if (first) await openFile(first.path, first.path === wanted ? early : undefined);
  else status("文件夹中没有规则集");
}

start();
