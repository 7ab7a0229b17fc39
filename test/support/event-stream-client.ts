import { spawn, type ChildProcess } from 'node:child_process';
import type { Api } from './api.js';
import { eventually } from './eventually.js';

export interface StreamedEvent {
  id: number;
  data: any;
}

/**
 * A client of Drover's event stream (`GET /events` as `text/event-stream`),
 * as a browser's EventSource reads it: frames of `id:` and `data:` lines,
 * comments ignored except to note a cut-off. `paused` stops reading the
 * response, as a slow subscriber does, so the server's buffers fill.
 */
export class EventStreamClient {
  readonly events: StreamedEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  ended = false;
  paused = false;
  private resumeReading?: () => void;
  private readonly controller = new AbortController();
  private readonly done: Promise<void>;
  private opened!: () => void;
  readonly ready = new Promise<void>((resolve) => (this.opened = resolve));

  private constructor(
    private readonly api: Api,
    query: string,
    lastEventId: number | undefined,
    headers: Record<string, string>,
  ) {
    this.done = this.read(query, lastEventId, headers).catch(() => undefined).finally(() => {
      this.ended = true;
      this.opened();
    });
  }

  /** Opens a stream of the events after `lastEventId` (sent as Last-Event-ID), or of new events; `query` is added to the URL. */
  static open(api: Api, options: { query?: string; lastEventId?: number; headers?: Record<string, string> } = {}): EventStreamClient {
    return new EventStreamClient(api, options.query ?? '', options.lastEventId, options.headers ?? {});
  }

  get lastId(): number | undefined {
    return this.events.at(-1)?.id;
  }

  get cutOff(): boolean {
    return this.comments.some((comment) => comment.startsWith('cut off'));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.resumeReading?.();
  }

  /** Waits until the stream has an event with at least this id (or ended). */
  async waitForId(id: number, timeoutMs = 20_000): Promise<void> {
    await eventually(() => (this.events.some((event) => event.id >= id) ? true : this.ended ? Promise.reject(new Error(`the stream ended at ${this.lastId}, before event ${id}`)) : undefined), `event ${id} on the stream`, timeoutMs);
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }

  private async read(query: string, lastEventId: number | undefined, headers: Record<string, string>): Promise<void> {
    const response = await this.api.fetch(`${this.api.root}/events${query ? `?${query}` : ''}`, {
      headers: { Accept: 'text/event-stream', Authorization: this.api.authorization, ...(lastEventId === undefined ? {} : { 'Last-Event-ID': String(lastEventId) }), ...headers },
      signal: this.controller.signal,
    });
    this.status = response.status;
    if (response.status !== 200 || !response.body) {
      this.comments.push(`status ${response.status}: ${await response.text()}`);
      return;
    }
    this.opened();
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    for (;;) {
      if (this.paused) await new Promise<void>((resolve) => (this.resumeReading = resolve));
      const { value, done } = await reader.read();
      if (done) return;
      buffered += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const frame = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        this.take(frame);
      }
    }
  }

  private take(frame: string): void {
    let id: number | undefined;
    const data: string[] = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
      else if (line.startsWith('id:')) id = Number(line.slice(3).trim());
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (id !== undefined && data.length) this.events.push({ id, data: JSON.parse(data.join('\n')) });
  }
}

/**
 * A subscriber that is a `curl` process, so that stopping it (SIGSTOP) stops
 * it reading its socket as a stuck client does: the kernel's buffers fill,
 * then the server's. `body` is what curl wrote, once it runs again.
 */
export class CurlEventStream {
  private output = '';
  ended = false;
  private readonly child: ChildProcess;

  constructor(api: Api, caFile: string, lastEventId: number) {
    this.child = spawn('curl', ['-sSN', '--cacert', caFile, '-H', `Authorization: ${api.authorization}`, '-H', 'Accept: text/event-stream', '-H', `Last-Event-ID: ${lastEventId}`, `${api.root}/events`], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => (this.output += chunk));
    this.child.on('exit', () => (this.ended = true));
  }

  async started(): Promise<void> {
    await eventually(() => this.output.includes('drover event stream') || undefined, 'curl to begin reading the stream');
  }

  stop(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }

  close(): void {
    if (!this.ended) this.child.kill('SIGKILL');
  }

  ids(): number[] {
    return [...this.output.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));
  }

  get cutOff(): boolean {
    return /^: cut off/m.test(this.output);
  }
}
