// Where a field path of the API's problems (`campaigns[0].rules[0].when`, `tiers.levels[1].threshold`)
// is in the editor's text: a small JSON scanner that keeps each value's offsets, since JSON.parse keeps none.

interface Span {
  start: number; // the key's opening quote for a member, else the value's first character
  end: number;
  kids?: Map<string, Span>;
}

export function parsePath(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split(".")) {
    const m = part.match(/^([^[\]]*)((?:\[\d+\])*)$/);
    if (!m) return out.concat(part);
    if (m[1]) out.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(idx[1]);
  }
  return out;
}

/** The [start, end) of the path's text, or of its deepest part that exists; null if none does. */
export function locate(text: string, path: string): [number, number] | null {
  let root: Span;
  try {
    root = new Scanner(text).document();
  } catch {
    // Not JSON (being edited): the last key's first occurrence is the best guess.
    const key = parsePath(path).filter((p) => !/^\d+$/.test(p)).at(-1);
    const at = key ? text.indexOf(`"${key}"`) : -1;
    return at < 0 ? null : [at, at + key!.length + 2];
  }
  let node: Span | undefined = root;
  let found: Span | null = null;
  for (const seg of parsePath(path)) {
    node = node?.kids?.get(seg);
    if (!node) break;
    found = node;
  }
  return found ? [found.start, found.end] : null;
}

class Scanner {
  private i = 0;
  constructor(private readonly s: string) {}

  document(): Span {
    const v = this.value();
    this.ws();
    if (this.i !== this.s.length) throw new Error("trailing text");
    return v;
  }

  private ws(): void {
    while (/\s/.test(this.s[this.i] ?? "")) this.i++;
  }

  private value(): Span {
    this.ws();
    const start = this.i;
    const c = this.s[this.i];
    if (c === "{") return this.object(start);
    if (c === "[") return this.array(start);
    if (c === '"') {
      this.string();
      return { start, end: this.i };
    }
    while (this.i < this.s.length && !/[\s,\]}]/.test(this.s[this.i])) this.i++;
    if (this.i === start) throw new Error(`unexpected ${c ?? "end"} at ${start}`);
    return { start, end: this.i };
  }

  private string(): string {
    const start = ++this.i;
    while (this.i < this.s.length && this.s[this.i] !== '"') this.i += this.s[this.i] === "\\" ? 2 : 1;
    if (this.i >= this.s.length) throw new Error("unterminated string");
    const raw = this.s.slice(start, this.i++);
    return JSON.parse(`"${raw}"`) as string;
  }

  private expect(c: string): void {
    this.ws();
    if (this.s[this.i] !== c) throw new Error(`expected ${c} at ${this.i}`);
    this.i++;
  }

  private object(start: number): Span {
    const kids = new Map<string, Span>();
    this.i++;
    this.ws();
    if (this.s[this.i] === "}") return { start, end: ++this.i, kids };
    for (;;) {
      this.ws();
      const keyStart = this.i;
      const key = this.string();
      this.expect(":");
      const v = this.value();
      kids.set(key, { ...v, start: keyStart });
      this.ws();
      if (this.s[this.i] === ",") this.i++;
      else break;
    }
    this.expect("}");
    return { start, end: this.i, kids };
  }

  private array(start: number): Span {
    const kids = new Map<string, Span>();
    this.i++;
    this.ws();
    if (this.s[this.i] === "]") return { start, end: ++this.i, kids };
    for (let n = 0; ; n++) {
      kids.set(String(n), this.value());
      this.ws();
      if (this.s[this.i] === ",") this.i++;
      else break;
    }
    this.expect("]");
    return { start, end: this.i, kids };
  }
}
