// A small interpreter of TextMate grammars: the workbench colours rulebooks with the same
// jxdsl.tmLanguage.json that VS Code reads, so the two never disagree.  It understands what that
// grammar uses: `match` rules with `name`/`captures`, `begin`/`end` rules (with their captures,
// carried over line ends) and `include` of repository entries or `$self`.

function compileRule(raw, grammar, seen) {
  if (raw.include) {
    const target = raw.include === "$self" ? { patterns: grammar.patterns } : grammar.repository[raw.include.slice(1)];
    if (!target) throw new Error(`语法中找不到 ${raw.include}`);
    if (seen.has(target)) return seen.get(target);
    return compileRule(target, grammar, seen);
  }
  if (seen.has(raw)) return seen.get(raw);
  const rule = { name: raw.name, contentName: raw.contentName };
  seen.set(raw, rule);
  // "d" gives each group's start and end, which captures need
  if (raw.match) {
    rule.re = new RegExp(raw.match, "gd");
    rule.captures = raw.captures || {};
  } else if (raw.begin) {
    rule.re = new RegExp(raw.begin, "gd");
    rule.end = new RegExp(raw.end, "gd");
    rule.captures = raw.beginCaptures || raw.captures || {};
    rule.endCaptures = raw.endCaptures || raw.captures || {};
  }
  rule.patterns = (raw.patterns || []).flatMap((p) => {
    const got = compileRule(p, grammar, seen);
    return got.re ? [got] : got.patterns;
  });
  return rule;
}

export class Highlighter {
  constructor(grammar) {
    this.scopeName = grammar.scopeName;
    this.root = compileRule({ patterns: grammar.patterns }, grammar, new Map());
  }

  /** Tokens of one line: [{start, end, scopes}], and the begin/end rules still open after it. */
  line(text, stack = []) {
    stack = stack.slice();
    const scopes = new Array(text.length);
    const base = () => [this.scopeName, ...stack.flatMap((r) => [r.name, r.contentName].filter(Boolean))];
    const paint = (from, to, names) => { for (let i = from; i < to; i++) scopes[i] = names; };
    const captured = (m, outer, name, captures) => {
      const names = name ? [...outer, name] : outer;
      paint(m.index, m.index + m[0].length, names);
      for (const [group, cap] of Object.entries(captures)) {
        const at = m.indices[Number(group)];
        if (at && cap.name) paint(at[0], at[1], [...names, cap.name]);
      }
    };
    // a rule's leftmost match from an earlier position is still its leftmost from a later one
    // that it does not pass, and no match stays none: each rule searches a line a few times only
    const found = new Map();
    const search = (re, pos) => {
      const known = found.get(re);
      if (known !== undefined && (known === null || known.index >= pos)) return known;
      re.lastIndex = pos;
      const m = re.exec(text);
      found.set(re, m);
      return m;
    };
    let pos = 0;
    while (pos <= text.length) {
      const top = stack[stack.length - 1];
      const here = base();
      let best = null;
      if (top) {
        const m = search(top.end, pos);
        if (m) best = { m, end: true };
      }
      for (const rule of (top || this.root).patterns) {
        const m = search(rule.re, pos);
        if (m && (!best || m.index < best.m.index)) best = { m, rule };
      }
      if (!best) { paint(pos, text.length, here); break; }
      const { m } = best;
      paint(pos, m.index, here);
      let next = m.index + m[0].length;
      if (best.end) {
        captured(m, here.slice(0, here.length - (top.contentName ? 1 : 0)), null, top.endCaptures);
        stack.pop();
      } else if (best.rule.end) {
        captured(m, here, best.rule.name, best.rule.captures);
        stack.push(best.rule);
      } else {
        captured(m, here, best.rule.name, best.rule.captures);
      }
      if (next === pos) { // an empty match: step over one character so the scan always moves on
        if (pos < text.length && !scopes[pos]) scopes[pos] = base();
        next = pos + 1;
      }
      pos = next;
    }
    const tokens = [];
    const plain = [this.scopeName];
    for (let i = 0; i < text.length; i++) {
      const names = scopes[i] || plain;
      const last = tokens[tokens.length - 1];
      if (last && last.scopes === names) last.end = i + 1;
      else tokens.push({ start: i, end: i + 1, scopes: names });
    }
    return { tokens, stack };
  }

  /** Tokens of every line of a text; lines outside any begin/end rule are remembered, so that
   * colouring the text again after a keystroke redoes only the line typed in. */
  lines(text) {
    let stack = [];
    this.known ??= new Map();
    if (this.known.size > 20000) this.known.clear();
    return text.split("\n").map((line) => {
      const kept = stack.length === 0 ? this.known.get(line) : undefined;
      const got = kept || this.line(line, stack);
      if (stack.length === 0 && !kept) this.known.set(line, got);
      stack = got.stack;
      return got.tokens;
    });
  }
}

/** The CSS class of a token: its innermost scope's first two parts, e.g. "s-keyword-control". */
export function scopeClass(scopes) {
  const inner = scopes[scopes.length - 1];
  return "s-" + inner.split(".").slice(0, 2).join("-");
}
