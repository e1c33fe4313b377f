// The rulebook editor: a transparent <textarea> (the browser's own editing, undo, IME and
// selection) over a <pre> that shows the same text coloured and with errors underlined.  Both use
// the same font, size and spacing, and the colours never change a glyph's width (no bold, no
// italics), so each character of the overlay sits under the caret's character, CJK and full-width
// forms included.
import { scopeClass } from "./highlight.js";

const escapeHtml = (s) => s.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]);

/** UTF-16 index in `line` of a 1-based column counted in characters (code points), as the API counts. */
export function indexOfColumn(line, column) {
  let index = 0;
  let c = 1;
  for (; c < column && index < line.length; c++) index += line.codePointAt(index) > 0xffff ? 2 : 1;
  return index + (column - c);
}

export class Editor {
  constructor(root, highlighter) {
    this.highlighter = highlighter;
    this.problems = [];
    root.innerHTML = `<div class="gutter" aria-hidden="true"><div class="gutter-lines"></div></div>
      <div class="code"><pre class="hl" aria-hidden="true"><code></code></pre>
      <textarea class="input" spellcheck="false" wrap="off" autocapitalize="off" autocomplete="off"
        aria-label="规则集文本"></textarea></div>`;
    this.gutter = root.querySelector(".gutter-lines");
    this.code = root.querySelector(".hl code");
    this.input = root.querySelector("textarea");
    this.input.addEventListener("input", () => this.render());
    this.input.addEventListener("scroll", () => this.sync());
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Tab" && !e.shiftKey && !e.ctrlKey && !e.metaKey) {
        e.preventDefault(); // indentation is syntax in a rulebook: Tab writes two spaces
        document.execCommand("insertText", false, "  ");
      }
    });
  }

  get text() { return this.input.value; }

  set text(value) {
    this.input.value = value;
    this.input.scrollTop = 0;
    this.render();
  }

  /** Underline these problems ({line, column, end_line, end_column, severity}). */
  setProblems(problems) {
    this.problems = problems;
    this.render();
  }

  render() {
    const lines = this.input.value.split("\n");
    const tokens = this.highlighter.lines(this.input.value);
    const marks = lines.map(() => []);
    for (const p of this.problems) {
      if (p.line == null || p.line > lines.length) continue;
      const endLine = Math.min(p.end_line ?? p.line, lines.length);
      for (let l = p.line; l <= endLine; l++) {
        const text = lines[l - 1];
        const from = l === p.line ? indexOfColumn(text, p.column) : 0;
        let to = l === endLine && p.end_line != null ? indexOfColumn(text, p.end_column) : text.length;
        if (l === endLine && p.end_line != null && p.end_line > endLine) to = text.length;
        if (to <= from && l === p.line) to = from + 1; // a point: underline one character (or the line end)
        if (to > from) marks[l - 1].push({ from, to, cls: p.severity === "warning" ? "warn" : "err" });
      }
    }
    const html = lines.map((text, i) => renderLine(text, tokens[i], marks[i])).join("\n");
    this.code.innerHTML = html + "\n";
    const bad = new Set(this.problems.filter((p) => p.severity !== "warning" && p.line != null).map((p) => p.line));
    this.gutter.innerHTML = lines.map((_, i) => `<div${bad.has(i + 1) ? ' class="bad"' : ""}>${i + 1}</div>`).join("");
    this.sync();
  }

  sync() {
    const { scrollTop, scrollLeft } = this.input;
    this.code.parentElement.style.setProperty("--x", `${-scrollLeft}px`);
    this.code.parentElement.style.setProperty("--y", `${-scrollTop}px`);
    this.gutter.style.transform = `translateY(${-scrollTop}px)`;
  }

  /** Put the caret at a 1-based line and column and bring it into view. */
  goTo(line, column = 1) {
    const lines = this.input.value.split("\n");
    line = Math.max(1, Math.min(line, lines.length));
    let offset = 0;
    for (let i = 0; i < line - 1; i++) offset += lines[i].length + 1;
    offset += indexOfColumn(lines[line - 1], column);
    this.input.focus();
    this.input.setSelectionRange(offset, offset);
    const height = parseFloat(getComputedStyle(this.input).lineHeight) || 20;
    this.input.scrollTop = Math.max(0, (line - 1) * height - this.input.clientHeight / 3);
    this.sync();
  }
}

function renderLine(text, tokens, marks) {
  const cls = new Array(text.length);
  for (const t of tokens) {
    const name = scopeClass(t.scopes);
    for (let i = t.start; i < t.end; i++) cls[i] = name;
  }
  const mark = new Array(text.length + 1).fill("");
  let pastEnd = "";
  for (const m of marks) {
    for (let i = m.from; i < Math.min(m.to, text.length); i++) mark[i] = mark[i] === "err" ? "err" : m.cls;
    if (m.to > text.length) pastEnd = pastEnd === "err" ? "err" : m.cls;
  }
  let out = "";
  let i = 0;
  while (i < text.length) {
    let j = i + 1;
    while (j < text.length && cls[j] === cls[i] && mark[j] === mark[i]) j++;
    const classes = [cls[i], mark[i]].filter(Boolean).join(" ");
    out += `<span class="${classes}">${escapeHtml(text.slice(i, j))}</span>`;
    i = j;
  }
  // an error at the end of a line (a missing word): a marked space after the last character
  if (pastEnd) out += `<span class="${pastEnd}"> </span>`;
  return out;
}
