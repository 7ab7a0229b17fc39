import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { summarize, type Summary } from './lib/stats.js';

/**
 * A closed-loop HTTP/1.1 load generator, run as a child process so that it
 * has a core of its own: `connections` keep-alive connections each send one
 * request, wait for the whole response, and send the next, at once or after
 * a think time. Requests are prebuilt buffers and responses are framed by
 * Content-Length, so the client costs little per request and is the same for
 * every target.
 *
 * The requests are either one GET sent over and over, or a mix: each request
 * is a VM action with probability `actionShare`, and otherwise a read of a
 * kind drawn by weight, on a path drawn at random from that kind's paths.
 * Actions toggle VMs: each connection owns every `connections`-th VM, takes
 * its VMs in turn, and stops the ones it believes up and starts the others.
 * Its belief follows the answers: a 200 or a 409 (the VM was already there,
 * or busy) flips it, anything else leaves it, so the next action on that VM
 * tries again.
 */
export interface LoadJob {
  host: string;
  port: number;
  /** Present when the target serves HTTPS: the CA certificate (PEM) the client trusts. Connections are opened (handshake included) before the first request. */
  tls?: { ca: string };
  headers: Record<string, string>;
  connections: number;
  warmupMs: number;
  durationMs: number;
  /**
   * The mean pause of a connection between a response and its next request,
   * drawn from an exponential distribution (as a person or a polling script
   * pauses), and before its first request; 0 or absent for none.
   */
  thinkMs?: number;
  requests: SameRequest | RequestMix | NumberedPost;
}

export interface SameRequest {
  kind: 'same';
  path: string;
}

/**
 * A POST sent over and over, each with its own number: `{n}` in the body is
 * replaced by `first` + the connection's index + k × connections for its
 * k-th request, so that no two requests of the run carry the same number (an
 * external event's custom id, say).
 */
export interface NumberedPost {
  kind: 'numbered';
  path: string;
  body: string;
  first: number;
}

export interface RequestMix {
  kind: 'mix';
  reads: ReadKind[];
  /** The share of requests (0 to 1) that are VM actions. */
  actionShare: number;
  /** The VMs actions toggle: the path of each (/ovirt-engine/api/vms/ID) and whether it is up now. */
  vms: Array<{ path: string; up: boolean }>;
}

export interface ReadKind {
  name: string;
  paths: string[];
  weight: number;
}

/** The responses of one kind of request (the one GET, a read kind, 'start' or 'stop') inside the measured window. */
export interface KindResult {
  latencyMs: Summary;
  /** Responses by HTTP status; 'broken' counts connections that failed instead of answering. */
  statuses: Record<string, number>;
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
  byKind: Record<string, KindResult>;
}

type Message = { type: 'measuring' } | { type: 'result'; result: LoadResult } | { type: 'error'; message: string };

/** What a connection sends next, and what it learns from the answer's status. */
interface Next {
  kind: string;
  bytes: Buffer;
  answered?: (status: number) => void;
}

function requestBytes(job: LoadJob, method: string, path: string, body?: string): Buffer {
  const headers = [`${method} ${path} HTTP/1.1`, `Host: ${job.host}:${job.port}`, ...Object.entries(job.headers).map(([name, value]) => `${name}: ${value}`)];
  if (body !== undefined) headers.push('Content-Type: application/xml', `Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body ?? ''}`, 'latin1');
}

/** Builds, for each connection, the function that picks its next request. */
function requestPickers(job: LoadJob): Array<() => Next> {
  const requests = job.requests;
  if (requests.kind === 'same') {
    const same: Next = { kind: 'GET', bytes: requestBytes(job, 'GET', requests.path) };
    return Array.from({ length: job.connections }, () => () => same);
  }
  if (requests.kind === 'numbered') {
    return Array.from({ length: job.connections }, (_, connection) => {
      let number = requests.first + connection;
      return () => {
        const next: Next = { kind: 'POST', bytes: requestBytes(job, 'POST', requests.path, requests.body.replaceAll('{n}', String(number))) };
        number += job.connections;
        return next;
      };
    });
  }
  const reads = requests.reads.map((read) => ({ name: read.name, weight: read.weight, requests: read.paths.map((path) => requestBytes(job, 'GET', path)) }));
  const totalWeight = reads.reduce((sum, read) => sum + read.weight, 0);
  const pickRead = (): Next => {
    let point = Math.random() * totalWeight;
    const read = reads.find((candidate) => (point -= candidate.weight) < 0) ?? reads[reads.length - 1]!;
    return { kind: read.name, bytes: read.requests[Math.floor(Math.random() * read.requests.length)]! };
  };
  const vms = requests.vms.map((vm) => ({ up: vm.up, start: requestBytes(job, 'POST', `${vm.path}/start`, '<action/>'), stop: requestBytes(job, 'POST', `${vm.path}/stop`, '<action/>') }));
  return Array.from({ length: job.connections }, (_, connection) => {
    const owned = vms.filter((_, index) => index % job.connections === connection);
    let turn = 0;
    return () => {
      if (owned.length === 0 || Math.random() >= requests.actionShare) return pickRead();
      const vm = owned[turn++ % owned.length]!;
      return {
        kind: vm.up ? 'stop' : 'start',
        bytes: vm.up ? vm.stop : vm.start,
        answered: (status) => {
          if (status === 200 || status === 409) vm.up = !vm.up;
        },
      };
    };
  });
}

/** A pause drawn from the exponential distribution of mean `meanMs`, cut at ten times the mean. */
function thinkTime(meanMs: number): number {
  return Math.min(10 * meanMs, -Math.log(1 - Math.random()) * meanMs);
}

function run(job: LoadJob): Promise<LoadResult> {
  const pickers = requestPickers(job);
  const startedAt = performance.now();
  const windowStart = startedAt + job.warmupMs;
  const windowEnd = windowStart + job.durationMs;
  const latencies: number[] = [];
  const kinds = new Map<string, { latencies: number[]; statuses: Record<string, number> }>();
  const countFor = (kind: string) => {
    let entry = kinds.get(kind);
    if (!entry) kinds.set(kind, (entry = { latencies: [], statuses: {} }));
    return entry;
  };
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
        byKind: Object.fromEntries([...kinds].map(([kind, entry]) => [kind, { latencyMs: summarize(entry.latencies), statuses: entry.statuses }])),
      });
    };
    setTimeout(() => {
      cpuAtWindowStart = process.cpuUsage();
      process.send?.({ type: 'measuring' } satisfies Message);
    }, job.warmupMs);

    const connect = (connection: number, initial: boolean) => {
      if (!initial) reconnects++;
      open++;
      const socket = job.tls ? tls.connect({ host: job.host, port: job.port, ca: job.tls.ca }) : net.connect({ host: job.host, port: job.port });
      socket.setNoDelay(true);
      let buffer: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      let inFlight: Next | undefined;
      let closedByUs = false;
      const inWindow = (at: number) => at >= windowStart && at < windowEnd;
      const send = () => {
        const pause = job.thinkMs ? thinkTime(job.thinkMs) : 0;
        if (performance.now() + pause >= windowEnd) {
          closedByUs = true;
          socket.end();
        } else if (pause > 0) setTimeout(sendNow, pause);
        else sendNow();
      };
      const sendNow = () => {
        if (socket.destroyed) return;
        inFlight = pickers[connection]!();
        sentAt = performance.now();
        socket.write(inFlight.bytes);
      };
      socket.on(job.tls ? 'secureConnect' : 'connect', send);
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
        const status = Number(headText.slice(9, 12));
        const answered = inFlight!;
        answered.answered?.(status);
        inFlight = undefined;
        if (inWindow(now)) {
          requests++;
          latencies.push(now - sentAt);
          bodyBytes += Number(length[1]);
          if (status !== 200) non200++;
          const entry = countFor(answered.kind);
          entry.latencies.push(now - sentAt);
          entry.statuses[status] = (entry.statuses[status] ?? 0) + 1;
        }
        buffer = buffer.subarray(total);
        if (/\r\nconnection:\s*close/i.test(headText)) {
          closedByUs = true;
          socket.destroy();
          if (performance.now() < windowEnd) connect(connection, false);
          return;
        }
        send();
      });
      socket.on('error', () => {
        if (closedByUs) return;
        errors++;
        if (inFlight && inWindow(performance.now())) {
          const entry = countFor(inFlight.kind);
          entry.statuses.broken = (entry.statuses.broken ?? 0) + 1;
        }
      });
      socket.on('close', () => {
        open--;
        if (!closedByUs && performance.now() < windowEnd) connect(connection, false);
        else if (open === 0) finish();
      });
    };
    for (let connection = 0; connection < job.connections; connection++) connect(connection, true);
  });
}

process.once('message', (job: LoadJob) => {
  run(job)
    .then((result) => process.send?.({ type: 'result', result } satisfies Message, () => process.exit(0)))
    .catch((error: unknown) => process.send?.({ type: 'error', message: String(error) } satisfies Message, () => process.exit(1)));
});
