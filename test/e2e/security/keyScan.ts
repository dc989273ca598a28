// Searches everything the editor and the browser kept for the keys the tests used: files (UTF-8 and
// UTF-16 bytes: logs, settings, SQLite state.vscdb, anything else), the browser's localStorage and
// IndexedDB, the notification texts the user saw, and the browser console. A key counts as found when
// the whole key, or the payload or the signature of a JWT key, appears.
import * as fs from 'fs';
import * as path from 'path';

export interface Secret {
  /** Where it came from, for messages (never the key itself). */
  name: string;
  value: string;
}

export interface Finding {
  secret: string;
  where: string;
}

export interface ScanStats {
  files: number;
  bytes: number;
  texts: number;
}

/** The strings that identify a key: itself and, for a JWT, its payload and signature segments. */
export function needles(key: string): string[] {
  const out = new Set([key]);
  const parts = key.split('.');
  if (parts.length === 3) for (const p of parts.slice(1)) if (p.length >= 16) out.add(p);
  return [...out];
}

export class KeyScanner {
  readonly findings: Finding[] = [];
  readonly stats: ScanStats = { files: 0, bytes: 0, texts: 0 };
  private readonly patterns: Array<{ secret: string; utf8: Buffer; utf16: Buffer; text: string }>;

  constructor(secrets: readonly Secret[]) {
    this.patterns = secrets.flatMap((s) =>
      needles(s.value).map((n) => ({
        secret: s.name,
        utf8: Buffer.from(n, 'utf8'),
        utf16: Buffer.from(n, 'utf16le'),
        text: n,
      })),
    );
  }

  /** Which secrets occur in `text` (names, deduplicated). */
  inText(text: string): string[] {
    return [...new Set(this.patterns.filter((p) => text.includes(p.text)).map((p) => p.secret))];
  }

  text(text: string, where: string): string[] {
    this.stats.texts++;
    const hits = this.inText(text);
    for (const secret of hits) this.findings.push({ secret, where });
    return hits;
  }

  bytes(buf: Buffer, where: string): string[] {
    this.stats.bytes += buf.length;
    const hits = [
      ...new Set(this.patterns.filter((p) => buf.includes(p.utf8) || buf.includes(p.utf16)).map((p) => p.secret)),
    ];
    for (const secret of hits) this.findings.push({ secret, where });
    return hits;
  }

  /** Every regular file under `dir`; `allowed(file)` marks places a key may be (reported separately). */
  dir(dir: string, label: string, allowed: (file: string) => boolean = () => false): Finding[] {
    const allowedHits: Finding[] = [];
    const walk = (d: string) => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(d, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) {
          let buf: Buffer;
          try {
            buf = fs.readFileSync(p);
          } catch {
            continue;
          }
          this.stats.files++;
          const where = `${label}: ${path.relative(dir, p)}`;
          if (allowed(p)) {
            this.stats.bytes += buf.length;
            const hits = [
              ...new Set(
                this.patterns.filter((x) => buf.includes(x.utf8) || buf.includes(x.utf16)).map((x) => x.secret),
              ),
            ];
            for (const secret of hits) allowedHits.push({ secret, where });
          } else {
            this.bytes(buf, where);
          }
        }
      }
    };
    walk(dir);
    return allowedHits;
  }
}

/** Playwright's storageState({ indexedDB: true }) as (where, text) pairs: one per item / record. */
export function storageItems(state: unknown): Array<{ where: string; text: string; secretStorage: boolean }> {
  const out: Array<{ where: string; text: string; secretStorage: boolean }> = [];
  const s = state as {
    cookies?: unknown[];
    origins?: Array<{
      origin: string;
      localStorage?: Array<{ name: string; value: string }>;
      indexedDB?: Array<{ name: string; stores?: Array<{ name: string; records?: unknown[] }> }>;
    }>;
  };
  for (const c of s.cookies ?? []) out.push({ where: 'cookie', text: JSON.stringify(c), secretStorage: false });
  for (const o of s.origins ?? []) {
    for (const item of o.localStorage ?? []) {
      // code-server's SecretStorage: one AES-sealed localStorage item (LocalStorageSecretStorageProvider).
      out.push({
        where: `localStorage ${o.origin} "${item.name}"`,
        text: `${item.name}\n${item.value}`,
        secretStorage: item.name === 'secrets.provider',
      });
    }
    for (const db of o.indexedDB ?? []) {
      for (const store of db.stores ?? []) {
        (store.records ?? []).forEach((r, i) =>
          out.push({
            where: `IndexedDB ${o.origin} ${db.name}/${store.name} #${i}`,
            text: JSON.stringify(r),
            secretStorage: false,
          }),
        );
      }
    }
  }
  return out;
}
