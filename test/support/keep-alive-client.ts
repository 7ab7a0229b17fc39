import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';

export interface TimedResponse {
  status: number;
  body: string;
  /** From just before the request is written to the last byte of the response body. */
  ms: number;
}

/**
 * A sequential HTTP/1.1 client over one keep-alive connection (node:http or,
 * for an https origin, node:https trusting only the CA certificate it is
 * given, with a keep-alive agent limited to one socket). It counts the
 * connections it had to open, so a benchmark can show that it reused one.
 */
export class KeepAliveClient {
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  connectionsOpened = 0;

  constructor(
    readonly origin: string,
    readonly authorization: string,
    readonly ca?: string,
  ) {
    const options = { keepAlive: true, maxSockets: 1, keepAliveMsecs: 10_000 };
    const secure = new URL(origin).protocol === 'https:';
    this.transport = secure ? https : http;
    this.agent = secure ? new https.Agent({ ...options, ca }) : new http.Agent(options);
  }

  request(method: string, path: string, options: { body?: string; accept?: 'xml' | 'json' } = {}): Promise<TimedResponse> {
    const url = new URL(path, this.origin);
    const headers: Record<string, string> = { Authorization: this.authorization, Accept: options.accept === 'json' ? 'application/json' : 'application/xml' };
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/xml';
      headers['Content-Length'] = String(Buffer.byteLength(options.body));
    }
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const request = this.transport.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
        response.on('error', reject);
      });
      request.on('socket', () => {
        if (!request.reusedSocket) this.connectionsOpened++;
      });
      request.on('error', reject);
      request.end(options.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
