// "Nothing in the production VSIX exists only for tests": the VSIX's bundles are scanned for the
// names of the test hooks (src/testingApi.ts). The same scan is run on the test build, where it must
// find them, so that a scan that finds nothing proves something.
import * as fs from 'fs';
import * as zlib from 'zlib';

/**
 * The test API's own names, as they appear in a minified bundle (property names are kept). Shaped
 * so that product text does not match ("testing ${origin}", `testing.iconPassed`, `settleMs`).
 */
export const TEST_API_PATTERNS: ReadonlyArray<{ name: string; re: RegExp }> = [
  { name: 'testing', re: /\btesting\s*:/g },
  { name: 'settle', re: /\bsettle\s*(?:\(|:)/g },
  { name: 'runsTree', re: /\brunsTree\b/g },
  { name: 'comparisonRequests', re: /\bcomparisonRequests\b/g },
  { name: 'heartbeatReads', re: /\bheartbeatReads\b/g },
  { name: 'lastDocument', re: /\blastDocument\b/g },
  { name: 'answerNextConfirmation', re: /\banswerNextConfirmation\b/g },
  { name: 'createTestHooks', re: /\bcreateTestHooks\b/g },
  { name: '__EHG_TEST_HOOKS__', re: /__EHG_TEST_HOOKS__/g },
];

export interface Hit {
  file: string;
  name: string;
  context: string;
}

export function scanText(file: string, text: string): Hit[] {
  const hits: Hit[] = [];
  for (const { name, re } of TEST_API_PATTERNS) {
    for (const m of text.matchAll(re)) {
      const at = m.index ?? 0;
      hits.push({ file, name, context: text.slice(Math.max(0, at - 40), at + 40) });
    }
  }
  return hits;
}

/** The files of a zip (a VSIX), by name. Stored and deflated entries (what vsce writes). */
export function readZip(file: string): Map<string, Buffer> {
  const buf = fs.readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const dataAt = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(dataAt, dataAt + compressed);
    if (method === 0) out.set(name, Buffer.from(data));
    else if (method === 8) out.set(name, zlib.inflateRawSync(data));
    else throw new Error(`${file}: ${name} uses compression method ${method}`);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** Every .js file of the VSIX, scanned. */
export function scanVsix(vsix: string): { scanned: string[]; hits: Hit[] } {
  const scanned: string[] = [];
  const hits: Hit[] = [];
  for (const [name, data] of readZip(vsix)) {
    if (!name.endsWith('.js')) continue;
    scanned.push(name);
    hits.push(...scanText(name, data.toString('utf8')));
  }
  return { scanned, hits };
}
