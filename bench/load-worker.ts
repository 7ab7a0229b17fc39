import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { summarize, type Summary } from './lib/stats.js';

/**
 * A closed-loop HTTP/1.1 load generator, run as a child process so that it
 * has a core of its own: `connections` keep-alive connections each send one
 * request, wait for the whole response, and send the next. Requests are a
 * prebuilt buffer and responses are framed by Content-Length, so the client
 * costs little per request and is the same for every target.
 */
export interface LoadJob {
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  connections: number;
  warmupMs: number;
  durationMs: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  non200: number;
  errors: number;
  reconnects: number;
  bodyBytes: number;
  windowMs: number;
  latencyMs: Summary;
  clientCpuPercent: number;
}

type Message = { type: 'measuring' } | { type: 'result'; result: LoadResult } | { type: 'error'; message: string };

function run(job: LoadJob): Promise<LoadResult> {
  const head = [`GET ${job.path} HTTP/1.1`, `Host: ${job.host}:${job.port}`, ...Object.entries(job.headers).map(([name, value]) => `${name}: ${value}`), '', ''].join('\r\n');
  const request = Buffer.from(head, 'latin1');
  const startedAt = performance.now();
  const windowStart = startedAt + job.warmupMs;
  const windowEnd = windowStart + job.durationMs;
  const latencies: number[] = [];
  let requests = 0;
  let non200 = 0;
  let errors = 0;
  let reconnects = 0;
  let bodyBytes = 0;
  let cpuAtWindowStart: NodeJS.CpuUsage | undefined;
  let open = 0;

  return new Promise((resolve) => {
    const finish = () => {
      const cpu = process.cpuUsage(cpuAtWindowStart);
      const windowMs = job.durationMs;
      resolve({
        requests,
        rps: Math.round((requests / windowMs) * 1000),
        non200,
        errors,
        reconnects,
        bodyBytes: requests ? Math.round(bodyBytes / requests) : 0,
        windowMs,
        latencyMs: summarize(latencies),
        clientCpuPercent: Math.round((100 * (cpu.user + cpu.system)) / 1000 / windowMs),
      });
    };
    const windowTimer = setTimeout(() => {
      cpuAtWindowStart = process.cpuUsage();
      process.send?.({ type: 'measuring' } satisfies Message);
    }, job.warmupMs);
    void windowTimer;

    const connect = (initial: boolean) => {
      if (!initial) reconnects++;
      open++;
      const socket = net.connect({ host: job.host, port: job.port });
      socket.setNoDelay(true);
      let buffer: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      let closedByUs = false;
      const send = () => {
        if (performance.now() >= windowEnd) {
          closedByUs = true;
          socket.end();
          return;
        }
        sentAt = performance.now();
        socket.write(request);
      };
      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
        const headerEnd = buffer.indexOf('\r\n\r\n');
        if (headerEnd < 0) return;
        const headText = buffer.toString('latin1', 0, headerEnd);
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(headText);
        if (!length) {
          errors++;
          closedByUs = true;
          socket.destroy();
          return;
        }
        const total = headerEnd + 4 + Number(length[1]);
        if (buffer.length < total) return;
        const now = performance.now();
        if (now >= windowStart && now < windowEnd) {
          requests++;
          latencies.push(now - sentAt);
          bodyBytes += Number(length[1]);
          if (headText.slice(9, 12) !== '200') non200++;
        }
        buffer = buffer.subarray(total);
        if (/\r\nconnection:\s*close/i.test(headText)) {
          closedByUs = true;
          socket.destroy();
          if (performance.now() < windowEnd) connect(false);
          return;
        }
        send();
      });
      socket.on('error', () => {
        if (!closedByUs) errors++;
      });
      socket.on('close', () => {
        open--;
        if (!closedByUs && performance.now() < windowEnd) connect(false);
        else if (open === 0) finish();
      });
    };
    for (let index = 0; index < job.connections; index++) connect(true);
  });
}

process.once('message', (job: LoadJob) => {
  run(job)
    .then((result) => process.send?.({ type: 'result', result } satisfies Message, () => process.exit(0)))
    .catch((error: unknown) => process.send?.({ type: 'error', message: String(error) } satisfies Message, () => process.exit(1)));
});
