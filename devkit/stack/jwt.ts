// HS256 JSON Web Tokens with node:crypto only (sign for the stack's keys, verify in the gateway).
import { createHmac, timingSafeEqual } from 'node:crypto';

function b64url(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

function fromB64url(s: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('not base64url');
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

export function signJwt(claims: Record<string, unknown>, secret: string): string {
  const head = b64url(Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
  const body = b64url(Buffer.from(JSON.stringify(claims)));
  const sig = b64url(createHmac('sha256', secret).update(`${head}.${body}`).digest());
  return `${head}.${body}.${sig}`;
}

export type JwtResult =
  | { ok: true; claims: Record<string, unknown> }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' | 'unsupported_alg'; message: string };

export function verifyJwt(token: string, secret: string, nowSec = Math.floor(Date.now() / 1000)): JwtResult {
  const parts = token.split('.');
  if (parts.length !== 3)
    return { ok: false, reason: 'malformed', message: `Expected 3 parts in JWT; got ${parts.length}` };
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(fromB64url(parts[0]).toString('utf8'));
    claims = JSON.parse(fromB64url(parts[1]).toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed', message: 'JWT cryptographic operation failed' };
  }
  if (!header || typeof header !== 'object' || !claims || typeof claims !== 'object' || Array.isArray(claims)) {
    return { ok: false, reason: 'malformed', message: 'JWT cryptographic operation failed' };
  }
  if ((header as { alg?: unknown }).alg !== 'HS256')
    return { ok: false, reason: 'unsupported_alg', message: 'Wrong or unsupported encoding algorithm' };
  let sig: Buffer;
  try {
    sig = fromB64url(parts[2]);
  } catch {
    return { ok: false, reason: 'malformed', message: 'JWT cryptographic operation failed' };
  }
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) {
    return { ok: false, reason: 'bad_signature', message: 'JWT cryptographic operation failed' };
  }
  const c = claims as Record<string, unknown>;
  if (c.exp !== undefined) {
    if (typeof c.exp !== 'number')
      return { ok: false, reason: 'malformed', message: "The JWT 'exp' claim must be a number" };
    if (c.exp <= nowSec) return { ok: false, reason: 'expired', message: 'JWT expired' };
  }
  if (typeof c.nbf === 'number' && c.nbf > nowSec + 30)
    return { ok: false, reason: 'malformed', message: 'JWT not yet valid' };
  return { ok: true, claims: c };
}
