import type { ApiContext } from './context.js';
import type { EventService } from '../services/events.js';
import type { LoggedEvent } from '../state/event-log.js';
import { ServiceError, invalid } from '../rules/errors.js';
import { render } from './present/representation.js';
import { isEventId } from '../rules/events.js';

export interface EventStreamSettings {
  /** A subscriber whose unsent events and unflushed bytes pass this many bytes is cut off. */
  bufferBytes: number;
  /** How often an idle stream sends a comment, so that proxies keep it open. */
  heartbeatMs: number;
}

/** Events read from the log per statement while a subscriber catches up. */
const replayPage = 500;
/** Rendered events kept for the next subscriber that sends the same one. */
const renderedCacheSize = 4096;

/** What a subscriber asked to hear of: events after `afterId`, about these object types and ids (none given: all), and only what `visible` keeps. */
export interface Subscription {
  afterId: number;
  objectTypes?: ReadonlySet<string>;
  objectIds?: ReadonlySet<string>;
  visible?: (events: readonly LoggedEvent[]) => Promise<LoggedEvent[]>;
}

/**
 * Server-Sent Events from the audit log: every event after the subscriber's
 * last one (`Last-Event-ID`, or `from`), oldest first, each with its id, then
 * every new event as it is written. Events missed while disconnected are read
 * from the log, so a subscriber that reconnects with the last id it heard
 * misses nothing and hears nothing twice; one whose last id was pruned gets
 * 410 Gone before the stream starts. A subscriber that falls behind by more
 * than the buffer allows is cut off, and resumes from the log when it
 * reconnects.
 */
export class EventStreams {
  private readonly rendered = new Map<string, string>();

  constructor(
    private readonly events: EventService,
    private readonly settings: EventStreamSettings,
  ) {}

  /** The id to resume after, from `Last-Event-ID` or `from`; none: the newest event written. */
  resumePoint(ctx: ApiContext, from: string | undefined): number {
    const given = ctx.get('Last-Event-ID').trim() || from;
    if (given === undefined || given === '') return this.events.lastWrittenId;
    if (!isEventId(given)) throw invalid(`the event id to resume after must be a whole number, not "${given.slice(0, 40)}"`);
    return Number(given);
  }

  /** Answers the request with the stream. */
  open(ctx: ApiContext, subscription: Subscription): void {
    const { afterId } = subscription;
    if (afterId < this.events.lastPrunedId) {
      throw new ServiceError('gone', 'Gone', `events up to ${this.events.lastPrunedId} were pruned from the log; event ${afterId + 1} is no longer there. Read /events again and follow the stream from its newest event`);
    }
    if (afterId > this.events.lastWrittenId) throw invalid(`event ${afterId} is newer than the newest event, ${this.events.lastWrittenId}`);
    const stream = ctx.res;
    ctx.req.socket.setNoDelay(true);
    ctx.req.socket.setTimeout(0);
    ctx.respond = false;
    stream.writeHead(200, {
      ...ctx.response.headers,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
    });

    const base = ctx.state.present;
    const live: LoggedEvent[] = [];
    let liveBytes = 0;
    let lastSent = afterId;
    let catchingUp = true;
    let closed = false;
    let sending = Promise.resolve();

    let wakeWriter = () => {};
    const writable = () => new Promise<void>((resolve) => {
      wakeWriter = resolve;
      stream.once('drain', resolve);
    });
    const close = (graceful = false) => {
      if (closed) return;
      closed = true;
      unsubscribe();
      clearInterval(heartbeat);
      wakeWriter();
      if (graceful) stream.end();
      else stream.destroy();
    };
    const overflowing = () => stream.writableLength + liveBytes > this.settings.bufferBytes;
    const cutOff = () => {
      if (closed) return;
      stream.write(': cut off: this subscriber fell too far behind; reconnect with Last-Event-ID to resume\n\n');
      close(true);
    };
    const wanted = (event: LoggedEvent) =>
      (!subscription.objectTypes || (event.objectType !== null && subscription.objectTypes.has(event.objectType))) && (!subscription.objectIds || (event.objectId !== null && subscription.objectIds.has(event.objectId)));
    const send = async (batch: readonly LoggedEvent[], replaying = false) => {
      if (!replaying && overflowing()) return cutOff();
      const fresh = batch.filter((event) => event.id > lastSent && wanted(event));
      const visible = subscription.visible && fresh.length ? await subscription.visible(fresh) : fresh;
      if (closed) return;
      let text = '';
      for (const event of visible) text += `id: ${event.id}\ndata: ${this.renderedOf(base, event)}\n\n`;
      if (batch.length) lastSent = Math.max(lastSent, batch[batch.length - 1]!.id);
      if (text) stream.write(text);
      if (replaying && stream.writableLength > this.settings.bufferBytes / 2) await writable();
    };

    const unsubscribe = this.events.subscribe((batch) => {
      if (closed) return;
      if (catchingUp) {
        live.push(...batch);
        liveBytes += batch.length * 512;
        if (overflowing()) cutOff();
        return;
      }
      sending = sending.then(() => send(batch)).catch(() => close());
    });
    const heartbeat = setInterval(() => {
      if (!closed && stream.writableLength === 0) stream.write(': keepalive\n\n');
    }, this.settings.heartbeatMs);
    stream.on('error', () => close());
    stream.on('close', () => close());
    stream.write(': drover event stream\n\n');

    void (async () => {
      try {
        for (;;) {
          const page = await this.events.readAfter(lastSent, replayPage);
          if (closed) return;
          if (page.length === 0) break;
          await send(page, true);
          if (page.length < replayPage) break;
        }
        catchingUp = false;
        const pending = live.splice(0);
        liveBytes = 0;
        sending = sending.then(() => send(pending)).catch(() => close());
      } catch {
        close();
      }
    })();
  }

  private renderedOf(present: ApiContext['state']['present'], event: LoggedEvent): string {
    const key = `${present.base}:${event.id}`;
    let text = this.rendered.get(key);
    if (text === undefined) {
      text = render('event', present.event(event), 'json');
      if (this.rendered.size >= renderedCacheSize) this.rendered.delete(this.rendered.keys().next().value!);
      this.rendered.set(key, text);
    }
    return text;
  }
}
