// Parsers for the PostgREST URL grammar subset the gateway serves: select lists, filters
// (including or=/and= logic trees with quoted values), order. They produce plain syntax trees;
// turning them into SQL (with catalog checks and parameters) is gateway.ts's job.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string | null = null,
    readonly hint: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function syntaxError(what: string, details: string): ApiError {
  return new ApiError(400, 'PGRST100', `failed to parse ${what}`, details);
}

export type JsonStep = { arrow: '->' | '->>'; key: string | number };
export interface Field { column: string; path: JsonStep[] }
export interface SelectItem { star: true }
export interface SelectColumn { star?: false; field: Field; alias: string | null; cast: string | null }
export type Select = Array<SelectItem | SelectColumn>;

export const OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'in', 'is', 'isdistinct'] as const;
export type Operator = (typeof OPERATORS)[number];

export interface Condition { kind: 'cond'; field: Field; negate: boolean; op: Operator; value: string | string[] }
export interface Logic { kind: 'logic'; op: 'and' | 'or'; negate: boolean; items: Filter[] }
export type Filter = Condition | Logic;

export interface OrderTerm { field: Field; dir: 'asc' | 'desc' | null; nulls: 'first' | 'last' | null }

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** Splits at `sep` outside double quotes (backslash escapes inside) and parentheses. */
export function splitTopLevel(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inQuote = false;
  let cur = '';
  // A double quote opens a quoted value only at the start of a value (after "(", ".", or the
  // separator); elsewhere it is an ordinary character, as in PostgREST's unquoted values.
  let valueStart = true;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (inQuote) {
      cur += ch;
      if (ch === '\\' && i + 1 < s.length) { cur += s[++i]; continue; }
      if (ch === '"') inQuote = false;
      continue;
    }
    if (ch === '"' && valueStart) { inQuote = true; cur += ch; valueStart = false; continue; }
    valueStart = ch === '(' || ch === '.' || ch === sep;
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) throw syntaxError('filter', `unexpected ")" in ${s}`);
    if (ch === sep && depth === 0) { out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  if (inQuote) throw syntaxError('filter', `unterminated quoted value in ${s}`);
  if (depth !== 0) throw syntaxError('filter', `unbalanced parentheses in ${s}`);
  out.push(cur);
  return out;
}

/** `"a\"b"` → `a"b`; unquoted values are returned as they are. */
export function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    const inner = v.slice(1, -1);
    let out = '';
    for (let i = 0; i < inner.length; i++) {
      if (inner[i] === '\\' && i + 1 < inner.length) { out += inner[++i]; continue; }
      if (inner[i] === '"') throw syntaxError('filter', `unescaped quote in ${v}`);
      out += inner[i];
    }
    return out;
  }
  return v;
}

function parseName(s: string, what: string): string {
  if (s.startsWith('"')) {
    if (!s.endsWith('"') || s.length < 2) throw syntaxError(what, `bad quoted name ${s}`);
    return unquote(s);
  }
  if (!IDENT.test(s)) throw syntaxError(what, `unexpected name ${JSON.stringify(s)}`);
  return s;
}

/** `col`, `col->a->>b`, `col->0`. */
export function parseField(s: string, what = 'field'): Field {
  const m = /^("(?:[^"\\]|\\.)*"|[^-:>"]+)((?:->>?[^-:>]+)*)$/.exec(s);
  if (!m) throw syntaxError(what, `unexpected field ${JSON.stringify(s)}`);
  const column = parseName(m[1], what);
  const path: JsonStep[] = [];
  const re = /(->>?)([^-:>]+)/g;
  let step: RegExpExecArray | null;
  while ((step = re.exec(m[2])) !== null) {
    const raw = step[2];
    const key: string | number = /^-?\d+$/.test(raw) ? Number(raw) : unquote(raw);
    path.push({ arrow: step[1] as '->' | '->>', key });
  }
  return { column, path };
}

const CASTS: Record<string, string> = {
  text: 'text', int: 'integer', int4: 'integer', integer: 'integer', int8: 'bigint', bigint: 'bigint',
  numeric: 'numeric', float: 'double precision', float8: 'double precision', bool: 'boolean', boolean: 'boolean',
  json: 'json', jsonb: 'jsonb', date: 'date', timestamptz: 'timestamp with time zone', uuid: 'uuid',
};

export function castType(name: string): string {
  const t = CASTS[name.toLowerCase()];
  if (!t) throw syntaxError('select', `unsupported cast ::${name}`);
  return t;
}

export function parseSelect(raw: string | null): Select {
  const s = (raw ?? '*').trim() === '' ? '*' : (raw ?? '*');
  const items: Select = [];
  for (const part of splitTopLevel(s, ',')) {
    const p = part.trim();
    if (p === '*') { items.push({ star: true }); continue; }
    if (p.includes('(')) {
      throw new ApiError(400, 'PGRST200', 'Embedded resources and aggregates are not supported by this PostgREST stand-in', `select item ${JSON.stringify(p)}`);
    }
    if (p.startsWith('...')) throw syntaxError('select', `spread ${p} is not supported`);
    let rest = p;
    let alias: string | null = null;
    // alias:field — the first single colon that is not part of a :: cast
    const am = /^("(?:[^"\\]|\\.)*"|[^:"]+):(?!:)(.*)$/.exec(rest);
    if (am) { alias = parseName(am[1], 'select'); rest = am[2]; }
    let cast: string | null = null;
    const cm = /^(.*)::([A-Za-z0-9_]+)$/.exec(rest);
    if (cm) { rest = cm[1]; cast = castType(cm[2]); }
    if (rest === '') throw syntaxError('select', `empty select item in ${JSON.stringify(s)}`);
    items.push({ field: parseField(rest, 'select'), alias, cast });
  }
  return items;
}

function parseInList(v: string): string[] {
  if (!v.startsWith('(') || !v.endsWith(')')) throw syntaxError('filter', `"in" needs a list in parentheses, got ${v}`);
  const inner = v.slice(1, -1);
  if (inner.trim() === '') return [];
  return splitTopLevel(inner, ',').map((x) => unquote(x));
}

/** `[not.]op.value` for field `field`. `inLogic` enables quoted values (or=/and= trees). */
export function parseOpValue(field: Field, s: string, inLogic: boolean): Condition {
  let rest = s;
  let negate = false;
  if (rest.startsWith('not.')) { negate = true; rest = rest.slice(4); }
  const dot = rest.indexOf('.');
  if (dot < 0) throw syntaxError('filter', `expected "operator.value", got ${JSON.stringify(s)}`);
  const op = rest.slice(0, dot);
  const value = rest.slice(dot + 1);
  if (!(OPERATORS as readonly string[]).includes(op)) throw syntaxError('filter', `unknown or unsupported operator ${JSON.stringify(op)}`);
  if (op === 'in') return { kind: 'cond', field, negate, op, value: parseInList(value) };
  if (op === 'is') {
    const v = value.toLowerCase();
    if (!['null', 'not_null', 'true', 'false', 'unknown'].includes(v)) throw syntaxError('filter', `"is" accepts null, not_null, true, false or unknown, got ${JSON.stringify(value)}`);
    return { kind: 'cond', field, negate, op, value: v };
  }
  return { kind: 'cond', field, negate, op: op as Operator, value: inLogic ? unquote(value) : value };
}

/** A top-level `column=op.value` query parameter. */
export function parseFilterParam(key: string, value: string): Condition {
  return parseOpValue(parseField(key, 'filter'), value, false);
}

/** The value of `or=`/`and=` (`(a.eq.1,and(b.gt.2,c.is.null))`). */
export function parseLogic(op: 'and' | 'or', negate: boolean, value: string): Logic {
  const v = value.trim();
  if (!v.startsWith('(') || !v.endsWith(')')) throw syntaxError('logic tree', `expected "(…)", got ${JSON.stringify(value)}`);
  const inner = v.slice(1, -1);
  const items: Filter[] = [];
  for (const partRaw of splitTopLevel(inner, ',')) {
    const part = partRaw.trim();
    if (part === '') throw syntaxError('logic tree', `empty condition in ${JSON.stringify(value)}`);
    const lm = /^(not\.)?(and|or)(\(.*\))$/s.exec(part);
    if (lm) { items.push(parseLogic(lm[2] as 'and' | 'or', !!lm[1], lm[3])); continue; }
    // field is up to the first "." that is outside a quoted name
    let fieldEnd: number;
    if (part.startsWith('"')) {
      const close = part.indexOf('".');
      if (close < 0) throw syntaxError('logic tree', `bad condition ${JSON.stringify(part)}`);
      fieldEnd = close + 1;
    } else {
      fieldEnd = part.indexOf('.');
    }
    if (fieldEnd <= 0) throw syntaxError('logic tree', `bad condition ${JSON.stringify(part)}`);
    items.push(parseOpValue(parseField(part.slice(0, fieldEnd), 'logic tree'), part.slice(fieldEnd + 1), true));
  }
  return { kind: 'logic', op, negate, items };
}

export function parseOrder(raw: string): OrderTerm[] {
  const out: OrderTerm[] = [];
  for (const termRaw of splitTopLevel(raw, ',')) {
    const parts = termRaw.trim().split('.');
    let nulls: OrderTerm['nulls'] = null;
    let dir: OrderTerm['dir'] = null;
    const last = parts[parts.length - 1];
    if (parts.length > 1 && (last === 'nullsfirst' || last === 'nullslast')) { nulls = last === 'nullsfirst' ? 'first' : 'last'; parts.pop(); }
    const d = parts[parts.length - 1];
    if (parts.length > 1 && (d === 'asc' || d === 'desc')) { dir = d; parts.pop(); }
    const fieldText = parts.join('.');
    if (fieldText === '') throw syntaxError('order', `empty order term in ${JSON.stringify(raw)}`);
    out.push({ field: parseField(fieldText, 'order'), dir, nulls });
  }
  return out;
}

export function parseNonNegativeInt(v: string, what: string): number {
  if (!/^\d+$/.test(v)) throw syntaxError(what, `${what} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** `columns="a","b"` (as supabase-js sends) or `columns=a,b`. */
export function parseColumnsParam(v: string): string[] {
  return splitTopLevel(v, ',').map((c) => parseName(c.trim(), 'columns'));
}

/** The Prefer header(s) as a map (`return=representation, count=exact` → {return, count}). */
export function parsePrefer(values: string | string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const all = Array.isArray(values) ? values : values ? [values] : [];
  for (const v of all) {
    for (const item of v.split(',')) {
      const [k, val] = item.trim().split('=');
      if (k) out[k.trim().toLowerCase()] = (val ?? '').trim();
    }
  }
  return out;
}
