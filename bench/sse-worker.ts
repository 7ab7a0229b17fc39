import https from 'node:https';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';

/**
 * Subscribers of a Server-Sent Events stream, run as a child process so that
 * reading and parsing the streams does not run on the server's thread. It
 * opens `subscribers` connections (HTTPS when a CA is given, each its own
 * TLS session) with the same request headers, and reads each stream as
 * EventSource does: frames separated by a blank line, `id:` and `data:`
 * lines, comments ignored except a cut-off.
 *
 * Every time is read from the machine's monotonic clock
 * (`process.hrtime`, CLOCK_MONOTONIC on Linux), which every process on the
 * machine shares, so the parent compares them with its own.
 *
 * - `latency` mode: for each event, once every subscriber has received it,
 *   the worker sends the parent a `delivered` message with the event's id, what
 *   it is about (`object_id`, `status`), its size, and each subscriber's
 *   time of receipt.
 * - `count` mode: each subscriber counts the events it received, checks that
 *   the ids follow each other without a gap, and counts receipts per 10 ms of
 *   the clock, so that the parent can ask how many arrived in a window.
 */
export interface OpenJob {
  type: 'open';
  host: string;
  port: number;
  path: string;
  /** The CA certificate (PEM) to trust; absent for plain HTTP. */
  ca?: string;
  headers: Record<string, string>;
  subscribers: number;
  mode: 'latency' | 'count';
}

export interface DrainJob {
  type: 'drain';
  /** Waits until every subscriber has received this id (or ended), at most `timeoutMs`. */
  untilId: number;
  timeoutMs: number;
  /** The window (monotonic ms) whose receipts are counted apart. */
  windowStartMs: number;
  windowEndMs: number;
}

export type ParentMessage = OpenJob | DrainJob | { type: 'mark' } | { type: 'close' };

export interface SubscriberCount {
  received: number;
  firstId: number | null;
  lastId: number | null;
  /** Ids skipped: an event with id N followed by one with id greater than N + 1 counts the difference. */
  missing: number;
  /** Events whose id was not greater than the one before. */
  disordered: number;
  receivedInWindow: number;
  /** When the subscriber received `untilId` (monotonic ms); null when it did not. */
  untilIdAtMs: number | null;
  cutOff: boolean;
  ended: boolean;
}

export interface Delivered {
  type: 'delivered';
  id: number;
  objectId: string | null;
  status: string | null;
  dataBytes: number;
  /** Each subscriber's time of receipt, monotonic ms. */
  receivedAtMs: number[];
}

export type WorkerMessage =
  | { type: 'opened'; connectMs: number; statuses: number[] }
  | Delivered
  | { type: 'marked'; cpuMs: number; atMs: number }
  | { type: 'drained'; subscribers: SubscriberCount[]; cpuMs: number }
  | { type: 'error'; message: string }
  | { type: 'closed' };

export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

const bucketMs = 10;

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

interface Subscriber extends SubscriberCount {
  request: http.ClientRequest;
  response?: IncomingMessage;
  buffered: string;
  buckets: Map<number, number>;
}

interface Pending {
  objectId: string | null;
  status: string | null;
  dataBytes: number;
  receivedAtMs: number[];
  count: number;
}

const send = (message: WorkerMessage) => process.send?.(message);

let job: OpenJob | undefined;
const subscribers: Subscriber[] = [];
const pending = new Map<number, Pending>();
let drainWaiter: (() => void) | undefined;
const epochMs = monotonicMs();

function takeFrame(index: number, subscriber: Subscriber, frame: string, atMs: number): void {
  if (frame.startsWith(':')) {
    if (frame.startsWith(': cut off')) subscriber.cutOff = true;
    return;
  }
  if (!frame.startsWith('id: ')) return;
  const idEnd = frame.indexOf('\n');
  const id = Number(frame.slice(4, idEnd < 0 ? undefined : idEnd));
  if (subscriber.lastId !== null) {
    if (id <= subscriber.lastId) subscriber.disordered++;
    else subscriber.missing += id - subscriber.lastId - 1;
  }
  subscriber.firstId ??= id;
  subscriber.lastId = Math.max(subscriber.lastId ?? id, id);
  subscriber.received++;
  if (job!.mode === 'count') {
    const bucket = Math.floor((atMs - epochMs) / bucketMs);
    subscriber.buckets.set(bucket, (subscriber.buckets.get(bucket) ?? 0) + 1);
    return;
  }
  let entry = pending.get(id);
  if (!entry) {
    const dataAt = frame.indexOf('\ndata: ');
    const data = dataAt < 0 ? '' : frame.slice(dataAt + 7);
    let document: { object_id?: string; status?: string } = {};
    try {
      document = JSON.parse(data) as typeof document;
    } catch {
      // A frame whose data is not JSON is still an event; it is about nothing the parent waits for.
    }
    entry = { objectId: document.object_id ?? null, status: document.status ?? null, dataBytes: Buffer.byteLength(data), receivedAtMs: new Array(subscribers.length).fill(Number.NaN), count: 0 };
    pending.set(id, entry);
  }
  entry.receivedAtMs[index] = atMs;
  if (++entry.count === subscribers.length) {
    pending.delete(id);
    send({ type: 'delivered', id, objectId: entry.objectId, status: entry.status, dataBytes: entry.dataBytes, receivedAtMs: entry.receivedAtMs });
  }
}

function openOne(open: OpenJob, index: number): Promise<number> {
  return new Promise((resolve, reject) => {
    // The certificate is checked against the IP address; an empty servername sends no SNI, which may not name an IP address.
    const options = { host: open.host, port: open.port, path: open.path, method: 'GET', headers: open.headers, agent: false as const };
    const request = open.ca ? https.request({ ...options, ca: open.ca, servername: '' }) : http.request(options);
    const subscriber: Subscriber = { request, buffered: '', buckets: new Map(), received: 0, firstId: null, lastId: null, missing: 0, disordered: 0, receivedInWindow: 0, untilIdAtMs: null, cutOff: false, ended: false };
    subscribers[index] = subscriber;
    request.on('response', (response) => {
      subscriber.response = response;
      response.socket.setNoDelay(true);
      response.setEncoding('latin1');
      let opened = false;
      response.on('data', (chunk: string) => {
        const atMs = monotonicMs();
        const text = subscriber.buffered ? subscriber.buffered + chunk : chunk;
        let start = 0;
        let end: number;
        while ((end = text.indexOf('\n\n', start)) >= 0) {
          takeFrame(index, subscriber, text.slice(start, end), atMs);
          start = end + 2;
          if (!opened) {
            opened = true;
            resolve(response.statusCode ?? 0);
          }
        }
        subscriber.buffered = start === 0 ? text : text.slice(start);
        if (subscriber.untilIdAtMs === null && drainUntil !== undefined && (subscriber.lastId ?? 0) >= drainUntil) subscriber.untilIdAtMs = atMs;
        drainWaiter?.();
      });
      response.on('end', () => {
        subscriber.ended = true;
        drainWaiter?.();
        if (!opened) resolve(response.statusCode ?? 0);
      });
      response.on('error', () => {
        subscriber.ended = true;
        drainWaiter?.();
      });
    });
    request.on('error', (error) => {
      subscriber.ended = true;
      drainWaiter?.();
      reject(error);
    });
    request.end();
  });
}

let drainUntil: number | undefined;

async function openAll(open: OpenJob): Promise<void> {
  job = open;
  const began = monotonicMs();
  const statuses: number[] = [];
  const parallel = 10;
  for (let first = 0; first < open.subscribers; first += parallel) {
    const batch = Array.from({ length: Math.min(parallel, open.subscribers - first) }, (_, offset) => openOne(open, first + offset));
    statuses.push(...(await Promise.all(batch)));
  }
  send({ type: 'opened', connectMs: monotonicMs() - began, statuses });
}

async function drain(request: DrainJob): Promise<void> {
  drainUntil = request.untilId;
  for (const subscriber of subscribers) if (subscriber.untilIdAtMs === null && (subscriber.lastId ?? 0) >= request.untilId) subscriber.untilIdAtMs = monotonicMs();
  const done = () => subscribers.every((subscriber) => subscriber.ended || (subscriber.lastId ?? 0) >= request.untilId);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(finish, request.timeoutMs);
    function finish() {
      clearTimeout(timer);
      drainWaiter = undefined;
      resolve();
    }
    drainWaiter = () => {
      if (done()) finish();
    };
    drainWaiter();
  });
  const first = Math.floor((request.windowStartMs - epochMs) / bucketMs);
  const last = Math.floor((request.windowEndMs - epochMs) / bucketMs);
  for (const subscriber of subscribers) {
    let inWindow = 0;
    for (const [bucket, count] of subscriber.buckets) if (bucket >= first && bucket < last) inWindow += count;
    subscriber.receivedInWindow = inWindow;
  }
  send({
    type: 'drained',
    cpuMs: cpuMs(),
    subscribers: subscribers.map(({ received, firstId, lastId, missing, disordered, receivedInWindow, untilIdAtMs, cutOff, ended }) => ({ received, firstId, lastId, missing, disordered, receivedInWindow, untilIdAtMs, cutOff, ended })),
  });
}

process.on('message', (message: ParentMessage) => {
  const failed = (error: unknown) => send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  if (message.type === 'open') openAll(message).catch(failed);
  else if (message.type === 'drain') drain(message).catch(failed);
  else if (message.type === 'mark') send({ type: 'marked', cpuMs: cpuMs(), atMs: monotonicMs() });
  else if (message.type === 'close') {
    for (const subscriber of subscribers) subscriber.request.destroy();
    process.send?.({ type: 'closed' } satisfies WorkerMessage, () => process.exit(0));
  }
});
