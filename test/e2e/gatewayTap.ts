// A passive listener on the stack gateway's HTTP server: when each request arrived, which key it
// carried, whether it was answered, and when its connection closed. The gateway's own requestLog
// records a request only once it is answered and holds no headers; the fault and security tests need
// both (requests cut off in flight, and where a key was sent).
import type * as http from 'http';
import type { Edge } from '../../devkit/stack';

export interface TappedRequest {
  id: number;
  at: number;
  method: string;
  url: string;
  /** The bearer token or apikey header the request carried (kept in memory only, never printed). */
  token: string | null;
  answeredAt: number | null;
  /** When the client's side went away (aborted, or the connection closed after the answer). */
  closedAt: number | null;
}

export class GatewayTap {
  readonly requests: TappedRequest[] = [];
  private nextId = 1;

  constructor(gateway: Edge) {
    // The gateway keeps its server private (devkit/stack is not part of this suite); listening to the
    // 'request' event adds a second listener next to the gateway's and changes nothing it does.
    const server = (gateway as unknown as { server: http.Server }).server;
    if (!server || typeof server.on !== 'function')
      throw new Error('GatewayTap: the gateway has no `server` field any more (devkit/stack/edge.ts changed)');
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const auth =
        typeof req.headers.authorization === 'string'
          ? req.headers.authorization.replace(/^Bearer\s+/i, '').trim()
          : null;
      const apikey = typeof req.headers.apikey === 'string' ? req.headers.apikey.trim() : null;
      const entry: TappedRequest = {
        id: this.nextId++,
        at: Date.now(),
        method: req.method ?? '',
        url: req.url ?? '',
        token: auth || apikey,
        answeredAt: null,
        closedAt: null,
      };
      this.requests.push(entry);
      if (this.requests.length > 20_000) this.requests.splice(0, 10_000);
      res.once('finish', () => (entry.answeredAt = Date.now()));
      res.once('close', () => (entry.closedAt ??= Date.now()));
    });
  }

  /** Requests neither answered nor closed: still waiting on the gateway. */
  inFlight(): TappedRequest[] {
    return this.requests.filter((r) => r.answeredAt === null && r.closedAt === null);
  }

  /** Requests since `since` (ms epoch) that carried `key` (exactly, as bearer or apikey). */
  carrying(key: string, since = 0): TappedRequest[] {
    return this.requests.filter((r) => r.at >= since && r.token === key);
  }
}
