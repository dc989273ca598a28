// Reads the schema reference documents in ../shared/seeds (beside the repository) into the
// structures of devkit/stack/contract.json, the in-repo contract the catalog test checks; the seed
// test compares the two wherever the documents are present.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './postgres';

export interface SeedColumn {
  name: string;
  type: string;
  nullable: boolean;
  default: string | null;
}
export interface SeedPolicy {
  name: string;
  command: string;
  roles: string[];
  using: string | null;
  withCheck: string | null;
}
export interface SeedTable {
  file: string;
  table: string;
  rlsEnabled: boolean;
  columns: SeedColumn[];
  primaryKey: { name: string; def: string } | null;
  unique: Array<{ name: string; def: string }>;
  checks: Array<{ name: string; def: string }>;
  indexes: Array<{ name: string; def: string }>;
  policies: SeedPolicy[];
  triggers: Array<{ name: string; timing: string; action: string }>;
}

/** The user's documents: beside the checkout (as CI has them), or EHG_SEEDS_DIR. null when absent. */
export function findSeedsDir(): string | null {
  const given = process.env.EHG_SEEDS_DIR;
  // A folder named on purpose that is not there is a mistake, not "no documents on this clone".
  if (given && !fs.existsSync(given)) throw new Error(`EHG_SEEDS_DIR=${given} does not exist`);
  const dir = given ?? path.resolve(repoRoot(), '..', 'shared', 'seeds');
  return fs.existsSync(dir) ? dir : null;
}

/**
 * Verbatim copies of the user's documents (devkit/stack/seeds/), so that a clone without ../shared
 * still checks the contract against them; schema-contract.test.ts fails when they differ by one byte
 * from the originals wherever those are present.
 */
export function vendoredSeedsDir(): string {
  return path.join(repoRoot(), 'devkit', 'stack', 'seeds');
}

/** The documents to read: the originals when present, else the verbatim copies. */
export function seedsDir(): string {
  return findSeedsDir() ?? vendoredSeedsDir();
}

/** The table contracts of a documents folder (its .txt files), sorted. */
export function seedFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort();
}

/** The in-repo contract (devkit/stack/contract.json), written from the seed documents. */
export interface ContractTable extends Omit<SeedTable, 'file'> {
  source: string;
}
export function loadContract(): ContractTable[] {
  const file = path.join(repoRoot(), 'devkit', 'stack', 'contract.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { tables: ContractTable[] }).tables;
}

function section(md: string, title: string, level = 2): string {
  const marker = `${'#'.repeat(level)} ${title}`;
  const start = md.indexOf(`\n${marker}\n`);
  if (start < 0) return '';
  const rest = md.slice(start + marker.length + 2);
  const re = new RegExp(`\\n#{1,${level}} `);
  const end = rest.search(re);
  return end < 0 ? rest : rest.slice(0, end);
}

function stripTicks(s: string): string {
  const t = s.trim();
  return t.startsWith('`') && t.endsWith('`') ? t.slice(1, -1) : t;
}

export function parseSeed(file: string): SeedTable {
  const md = fs.readFileSync(file, 'utf8');
  const title = /^# (\S+) Table/m.exec(md);
  if (!title) throw new Error(`${file}: no "# <table> Table" title`);
  const rls = /\*\*RLS\*\*:\s*(Enabled|Disabled)/.exec(md);
  const columns: SeedColumn[] = [];
  const colSection = md.slice(md.indexOf('## Columns'), md.indexOf('## Constraints'));
  for (const line of colSection.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 6 || cells[1] === 'Column' || /^-+$/.test(cells[1])) continue;
    columns.push({
      name: cells[1],
      type: stripTicks(cells[2]),
      nullable: cells[3] === 'YES',
      default: cells[4] === '-' ? null : stripTicks(cells[4]),
    });
  }
  const cons = section(md, 'Constraints');
  const grab = (sub: string) => {
    const body = section(cons.startsWith('\n') ? cons : `\n${cons}`, sub, 3);
    const out: Array<{ name: string; def: string }> = [];
    for (const m of body.matchAll(/^- `([^`]+)`: (.+)$/gm)) out.push({ name: m[1], def: m[2].trim() });
    return out;
  };
  const pk = grab('Primary Key');
  const indexes: Array<{ name: string; def: string }> = [];
  for (const m of section(md, 'Indexes').matchAll(/- `([^`]+)`\s*\n\s*```sql\s*\n\s*([^\n]+)\n\s*```/g))
    indexes.push({ name: m[1], def: m[2].trim() });
  const policies: SeedPolicy[] = [];
  const polSection = section(md, 'RLS Policies');
  for (const block of polSection.split(/\n### /).slice(1)) {
    const head = /^\d+\.\s+(\S+)\s+\((\w+)\)/.exec(block);
    if (!head) continue;
    const roles = /\*\*Roles\*\*:\s*\{([^}]*)\}/.exec(block);
    const using = /\*\*Using\*\*:\s*`([^`]*)`/.exec(block);
    const check = /\*\*With Check\*\*:\s*`([^`]*)`/.exec(block);
    policies.push({
      name: head[1],
      command: head[2],
      roles: roles ? roles[1].split(',').map((r) => r.trim()) : [],
      using: using ? using[1] : null,
      withCheck: check ? check[1] : null,
    });
  }
  const triggers: Array<{ name: string; timing: string; action: string }> = [];
  for (const block of section(md, 'Triggers')
    .split(/\n### /)
    .slice(1)) {
    const name = block.split('\n')[0].trim();
    const timing = /\*\*Timing\*\*:\s*(.+)/.exec(block);
    const action = /\*\*Action\*\*:\s*`([^`]*)`/.exec(block);
    triggers.push({ name, timing: timing ? timing[1].trim() : '', action: action ? action[1] : '' });
  }
  return {
    file: path.basename(file),
    table: title[1],
    rlsEnabled: rls?.[1] === 'Enabled',
    columns,
    primaryKey: pk[0] ?? null,
    unique: grab('Unique Constraints'),
    checks: grab('Check Constraints'),
    indexes,
    policies,
    triggers,
  };
}

export function loadSeeds(dir = seedsDir()): SeedTable[] {
  return seedFiles(dir).map((f) => parseSeed(path.join(dir, f)));
}

/** The document writes `integer(32)`; information_schema says `integer`. */
export function normaliseType(t: string): string {
  const m = /^(integer|bigint|smallint)\(\d+\)$/.exec(t.trim());
  return m ? m[1] : t.trim();
}
