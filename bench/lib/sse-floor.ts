import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createApiServer } from '../../controller/api/listener.js';
import type { InProcessSystem } from '../../test/support/in-process-system.js';
import { loadTls } from '../get-throughput.js';

/**
 * The floor of event delivery: a bare Koa app serving Server-Sent Events the
 * way the least any SSE server does, with no database, no rendering, no
 * filter. It is served as the system's API is (`createApiServer`, over HTTPS
 * with the controller's own certificate when the API serves HTTPS), so both
 * pay the same TLS cost per byte.
 *
 * - `GET` with `Accept: text/event-stream` subscribes: the stream opens with a
 *   comment, then carries every event emitted after it.
 * - `emit(data)` writes an event at once to every subscriber.
 * - `POST` takes an event (its body is read and dropped): it gets the next
 *   id and a document of `postedBytes`, is queued, and every event queued
 *   within a turn of the event loop goes out to every subscriber in one write
 *   (the batching Drover's log does, without its database); the request is
 *   answered 201 once its batch is written to the sockets.
 */
export class SseFloor {
  private readonly subscribers = new Set<ServerResponse>();
  private nextId = 1;
  private queued = '';
  private flushed?: Promise<void>;
  postedBytes = 512;
  /** Batches written to the subscribers for posted events, and the events in them. */
  readonly batches = { count: 0, events: 0 };
  private queuedEvents = 0;

  private constructor(
    private readonly server: ReturnType<typeof createApiServer>,
    readonly port: number,
  ) {}

  static async start(system: InProcessSystem): Promise<SseFloor> {
    const app = new Koa();
    let floor!: SseFloor;
    app.use(async (ctx) => {
      if (ctx.method === 'GET' && ctx.get('Accept').includes('text/event-stream')) {
        ctx.respond = false;
        ctx.req.socket.setNoDelay(true);
        ctx.req.socket.setTimeout(0);
        ctx.res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' });
        ctx.res.write(': floor event stream\n\n');
        floor.subscribers.add(ctx.res);
        ctx.res.on('close', () => floor.subscribers.delete(ctx.res));
        return;
      }
      if (ctx.method === 'POST') {
        for await (const _chunk of ctx.req) {
          // The posted document is read, as a server must, and not looked at.
        }
        const id = await floor.post();
        ctx.status = 201;
        ctx.type = 'application/xml';
        ctx.body = `<event id="${id}"/>`;
        return;
      }
      ctx.status = 404;
    });
    const server = createApiServer(app.callback(), loadTls(system) ? system.controller.serverCertificate : undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    floor = new SseFloor(server, (server.address() as AddressInfo).port);
    return floor;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** The id the next event gets. */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** Writes one event with this data to every subscriber at once; answers its id. */
  emit(data: string): number {
    const id = this.nextId++;
    const frame = `id: ${id}\ndata: ${data}\n\n`;
    for (const subscriber of this.subscribers) subscriber.write(frame);
    return id;
  }

  close(): Promise<void> {
    for (const subscriber of this.subscribers) subscriber.destroy();
    return new Promise<void>((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private post(): Promise<number> {
    const id = this.nextId++;
    this.queued += `id: ${id}\ndata: ${paddedDocument(id, this.postedBytes)}\n\n`;
    this.queuedEvents++;
    this.flushed ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        const text = this.queued;
        this.queued = '';
        this.flushed = undefined;
        this.batches.count++;
        this.batches.events += this.queuedEvents;
        this.queuedEvents = 0;
        for (const subscriber of this.subscribers) subscriber.write(text);
        resolve();
      }),
    );
    return this.flushed.then(() => id);
  }
}

/** A JSON document of exactly `bytes` bytes (at least its fixed part), as an event's data: what it is about, padded with a description. */
export function paddedDocument(id: number, bytes: number, about: { objectId?: string; status?: string } = {}): string {
  const fixed = JSON.stringify({ id: String(id), object_id: about.objectId ?? null, status: about.status ?? null, description: '' });
  const pad = Math.max(0, bytes - fixed.length);
  return JSON.stringify({ id: String(id), object_id: about.objectId ?? null, status: about.status ?? null, description: 'x'.repeat(pad) });
}
