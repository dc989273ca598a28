// A stand-in for "another server" a hostile workspace points the extension at: it answers every
// request with an empty JSON list (so a client has no reason to stop) and records what it received.
import * as http from 'http';
import type { AddressInfo } from 'net';

export interface RecordedRequest {
  at: number;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface RecordingServer {
  url: string;
  requests: RecordedRequest[];
  /** Requests whose headers, URL or body carried `secret` anywhere. */
  carrying(secret: string): RecordedRequest[];
  close(): Promise<void>;
}

export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: Array<RecordedRequest & { body: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body = (body + c).slice(0, 100_000)));
    req.on('end', () => {
      requests.push({ at: Date.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json', 'content-range': '*/0' }).end('[]');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    carrying: (secret) => requests.filter((r) => JSON.stringify(r).includes(secret)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
