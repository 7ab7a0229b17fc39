import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hypervisor } from '@unraid/libvirt';
import type { InProcessSystem } from '../test/support/in-process-system.js';
import type { DatabaseKind } from '../test/support/scratch-database.js';
import { startBenchSystem } from './lib/bench-system.js';
import { runLoad, type MeasuredLoad } from './lib/load.js';
import { cores, settle } from './lib/machine.js';
import { profilePhase } from './lib/profile.js';
import { describeTarget, say, target, type BenchResult, type Target } from './lib/report.js';
import { SseFloor, paddedDocument } from './lib/sse-floor.js';
import { describeSummary, round, summarize, type Summary } from './lib/stats.js';
import { monotonicMs, Subscribers, type Delivered, type SubscriberCount } from './lib/subscribers.js';
import { loadTls } from './get-throughput.js';

export interface EventDeliveryOptions {
  /** State changes timed per latency configuration (after a few unmeasured ones). */
  changes: number;
  /** Subscribers of the crowded configurations: latency with many subscribers, and throughput. */
  subscribers: number;
  /** Keep-alive connections posting external events in the throughput phase. */
  producers: number;
  warmupMs: number;
  /** Measured time of each throughput phase. */
  durationMs: number;
}

const defaultUri = 'test:///default';
/** Each change waits a random time up to this long first, so that changes fall at random points of the controller's and agent's work. */
const maxPauseMs = 50;
const warmupChanges = 6;
const deliveryTimeoutMs = 5_000;
const drainTimeoutMs = 30_000;
const latencyTargetMs = 50;
/** Each throughput phase numbers its external events from its own range, since an origin's custom id is taken once. */
const customIdsPerPhase = 10_000_000;

interface LatencyFigures {
  subscribers: number;
  changes: number;
  /** Changes no subscriber (or not every one) heard of within the timeout. */
  timeouts: number;
  /** From the start instant to each subscriber's receipt: changes × subscribers samples. */
  deliveryMs: Summary;
  /** From the start instant to the last subscriber's receipt, per change. */
  lastSubscriberMs: Summary;
  /** From the start instant to the first subscriber's receipt, per change. */
  firstSubscriberMs: Summary;
  /** Drover: how long the libvirt call that made each change took (issued to returned). */
  hypervisorCallMs?: Summary;
  /** Drover: every subscriber's receipt measured from the return of the libvirt call instead of its issue. */
  deliveryFromReturnMs?: Summary;
  /** Drover: from the start instant to the audit log's writer having written the event's batch and handed it to its subscribers (the streams among them). */
  loggedMs?: Summary;
  /** Drover: from that hand-over to each subscriber's receipt. */
  afterLoggedMs?: Summary;
  /** The size of the events' JSON documents (the SSE data), bytes. */
  dataBytes: number;
  /** Events heard that were about something else (the agent's host, say), skipped. */
  otherEvents: number;
}

interface ThroughputFigures {
  subscribers: number;
  producers: number;
  windowMs: number;
  /** Events accepted (201) per second in the window. */
  postedPerSecond: number;
  postLatencyMs: Summary;
  postStatuses: Record<string, number>;
  /** Events each subscriber received per second in the window: the least, median and most. */
  deliveredPerSecondPerSubscriber: { min: number; p50: number; max: number };
  /** Events received per second in the window by all subscribers together. */
  deliveredPerSecondTotal: number;
  /** Events written after the subscribers opened, through the last one written when the producers stopped. */
  events: number;
  /** Subscribers that received every one of them, in order, once. */
  subscribersWithEveryEvent: number;
  missing: number;
  disordered: number;
  cutOff: number;
  ended: number;
  /** From the producers' end to the last subscriber's receipt of the last event: how far delivery lagged behind. */
  drainMs: number;
  dataBytes: number;
  /** Events per batch the audit log (the floor: its turn of the event loop) wrote, and so per write to each subscriber. */
  eventsPerBatch?: number;
  serverCpuPercent: number;
  producerCpuPercent: number;
  subscribersCpuPercent: number;
  machineBusyPercent?: number;
}

/** The monotonic clock's reading of a `performance.now()` instant of this process. */
const monotonicOf = (performanceMs: number) => performanceMs + (monotonicMs() - performance.now());

/**
 * Benchmark 8: how fast events reach Server-Sent Events subscribers, against
 * a bare Koa SSE server on the same machine.
 *
 * Latency: an in-process agent watches `test:///default` (libvirt lifecycle
 * events, its 1 s poll as the safety net); a second libvirt connection in
 * the same process pauses and resumes the VM's domain behind Drover's back,
 * and subscribers in a child process (`bench/sse-worker.ts`) time the
 * arrival of the VM's `paused` or `up` event. A sample starts the moment the
 * benchmark issues the libvirt call that changes the domain, the earliest
 * instant at which the host's state can be said to change (the call's own
 * duration is reported apart), and ends when a subscriber has read the
 * event's frame from its socket. So it covers the whole path: libvirt's
 * event, the agent's watcher and report over gRPC, the state owner, the
 * audit log's group commit to the database, rendering, the write to every
 * subscriber, TLS, and the subscriber's reading. The floor writes an event of
 * the same size to every subscriber of a bare Koa SSE server and times the
 * same way, from just before the write.
 *
 * Throughput: `producers` keep-alive clients (`bench/load-worker.ts`) post
 * external events (`POST /events`, each with its own custom id) as fast as
 * they are answered while `subscribers` subscribers read the stream; each
 * subscriber checks that it received every event after the one it resumed
 * from, in order, once. The floor takes the same posts and writes each
 * (padded to the size of Drover's) to its subscribers, batched per turn of
 * the event loop as Drover's log batches them.
 */
export async function eventDelivery(database: DatabaseKind, options: EventDeliveryOptions): Promise<BenchResult> {
  const began = performance.now();
  const title = `event delivery to SSE subscribers vs bare Koa`;
  say(`\n== [8] ${title} (${database})`);
  const system = await startBenchSystem(database, `events-${database}`);
  const floor = await SseFloor.start(system);
  const hypervisor = new Hypervisor({ uri: defaultUri });
  let vmId: string | undefined;
  const cleanups: Array<() => void> = [];
  try {
    await system.addAgent({ name: 'events-host', uri: defaultUri, pollIntervalMs: 1000 });
    vmId = await system.api.createVm(`events-${database}`, 64);
    const started = await system.api.action(vmId, 'start');
    if (started.status !== 200) throw new Error(`starting the VM answered ${started.status}: ${started.text}`);
    await hypervisor.connectOpen();
    const domain = await hypervisor.domainLookupByUUIDString(vmId);
    const tls = loadTls(system);
    const apiPort = Number(new URL(system.apiRoot).port);
    const streamHeaders = { Authorization: system.authorization, Accept: 'text/event-stream' };
    const droverStream = { host: '127.0.0.1', port: apiPort, path: system.path('/events'), ca: tls?.ca, headers: streamHeaders };
    const floorStream = { ...droverStream, port: floor.port, path: '/events' };
    say(`controller on ${database}; agent on ${defaultUri} (lifecycle events, 1 s poll); VM ${vmId} up; subscribers in a child process over ${tls ? 'HTTPS' : 'HTTP'}; floor: bare Koa SSE on port ${floor.port}`);

    const loggedAt = new Map<number, number>();
    const stopWatchingLog = system.controller.services.events.subscribe((batch) => {
      const atMs = monotonicMs();
      for (const event of batch) if (event.objectId === vmId && event.change === 'status') loggedAt.set(event.id, atMs);
    });
    cleanups.push(stopWatchingLog);
    let paused = false;
    const changeDomain = async () => {
      if (paused) await hypervisor.domainResume(domain);
      else await hypervisor.domainSuspend(domain);
      paused = !paused;
      return paused ? 'paused' : 'up';
    };

    const droverLatency = async (subscriberCount: number): Promise<LatencyFigures> => {
      await settle();
      const { subscribers, connectMs } = await Subscribers.open({ ...droverStream, subscribers: subscriberCount, mode: 'latency' });
      try {
        say(`drover, ${subscriberCount} subscriber(s) connected in ${Math.round(connectMs)} ms`);
        return await profilePhase(`events-${database}-drover-latency-${subscriberCount}`, () =>
          timeChanges(subscribers, subscriberCount, options.changes, loggedAt, async () => {
            const issuedAt = monotonicMs();
            const status = await changeDomain();
            return { issuedAt, returnedAt: monotonicMs(), matches: (event: Delivered) => event.objectId === vmId && event.status === status };
          }),
        );
      } finally {
        await subscribers.close();
      }
    };

    const floorLatency = async (subscriberCount: number, dataBytes: number): Promise<LatencyFigures> => {
      await settle();
      const { subscribers } = await Subscribers.open({ ...floorStream, subscribers: subscriberCount, mode: 'latency' });
      try {
        let up = true;
        return await timeChanges(subscribers, subscriberCount, options.changes, undefined, async () => {
          up = !up;
          const data = paddedDocument(floor.lastId + 1, dataBytes, { objectId: 'floor', status: up ? 'up' : 'paused' });
          const issuedAt = monotonicMs();
          const id = floor.emit(data);
          return { issuedAt, matches: (event: Delivered) => event.id === id };
        });
      } finally {
        await subscribers.close();
      }
    };

    let phase = 0;
    const throughput = async (target: 'drover' | 'floor', subscriberCount = options.subscribers): Promise<ThroughputFigures & { load: MeasuredLoad }> => {
      await settle();
      const firstCustomId = customIdsPerPhase * phase++ + 1;
      const events = system.controller.services.events;
      const startId = target === 'drover' ? events.lastWrittenId : floor.lastId;
      const stream = target === 'drover' ? { ...droverStream, headers: { ...streamHeaders, 'Last-Event-ID': String(startId) } } : floorStream;
      const { subscribers } = await Subscribers.open({ ...stream, subscribers: subscriberCount, mode: 'count' });
      try {
        const batches = { count: 0, events: 0 };
        const floorBefore = { ...floor.batches };
        const stopCounting = events.subscribe((batch) => {
          batches.count++;
          batches.events += batch.length;
        });
        const before = await subscribers.mark().catch((error: unknown) => {
          stopCounting();
          throw error;
        });
        const load = await profilePhase(`events-${database}-${target}-throughput-${subscriberCount}`, () =>
          runLoad({
            host: '127.0.0.1',
            port: target === 'drover' ? apiPort : floor.port,
            tls,
            headers: { Authorization: system.authorization, Accept: 'application/xml' },
            connections: options.producers,
            warmupMs: options.warmupMs,
            durationMs: options.durationMs,
            requests: {
              kind: 'numbered',
              path: target === 'drover' ? system.path('/events') : '/events',
              body: '<event><custom_id>{n}</custom_id><description>benchmark event {n}</description><origin>bench</origin><severity>normal</severity></event>',
              first: firstCustomId,
            },
          }),
        );
        const producersEndedAt = monotonicMs();
        stopCounting();
        await events.settled();
        const untilId = target === 'drover' ? events.lastWrittenId : floor.lastId;
        const windowStartMs = monotonicOf(load.windowStartedAt);
        const drained = await subscribers.drain({ untilId, timeoutMs: drainTimeoutMs, windowStartMs, windowEndMs: windowStartMs + options.durationMs });
        const subscribersCpuPercent = Math.round((100 * (drained.cpuMs - before.cpuMs)) / (monotonicMs() - before.atMs));
        if (target === 'floor') Object.assign(batches, { count: floor.batches.count - floorBefore.count, events: floor.batches.events - floorBefore.events });
        const eventsPerBatch = batches.count ? round(batches.events / batches.count, 2) : undefined;
        return { ...throughputFigures(load, drained.subscribers, untilId - startId, producersEndedAt, options), subscribersCpuPercent, dataBytes: 0, eventsPerBatch, load };
      } finally {
        await subscribers.close();
      }
    };

    const latency = {
      droverOne: await droverLatency(1),
      droverMany: await droverLatency(options.subscribers),
      floorOne: undefined as LatencyFigures | undefined,
      floorMany: undefined as LatencyFigures | undefined,
    };
    const statusBytes = latency.droverOne.dataBytes;
    latency.floorOne = await floorLatency(1, statusBytes);
    latency.floorMany = await floorLatency(options.subscribers, statusBytes);
    for (const [name, figures] of Object.entries(latency)) if (figures) say(describeLatency(name, figures));

    const alone = await throughput('drover', 0);
    const drover = await throughput('drover');
    drover.dataBytes = await lastEventBytes(system, droverStream);
    floor.postedBytes = drover.dataBytes;
    const bare = await throughput('floor');
    bare.dataBytes = floor.postedBytes;
    say(`drover without subscribers: ${alone.postedPerSecond} events/s posted (POST p50 ${alone.postLatencyMs.p50} ms, p99 ${alone.postLatencyMs.p99} ms), ${alone.eventsPerBatch} events per batch; server process CPU ${alone.serverCpuPercent}% of one core`);
    say(describeThroughput('drover', drover));
    say(describeThroughput('floor', bare));

    const ratio = round(drover.deliveredPerSecondPerSubscriber.min / bare.deliveredPerSecondPerSubscriber.min, 3);
    say(`delivered events/s per subscriber, Drover / bare Koa: ${ratio}`);
    const targets: Target[] = [
      target(`delivery p99, 1 subscriber`, latency.droverOne.deliveryMs.p99, '<=', latencyTargetMs, 'ms'),
      target(`delivery p99, ${options.subscribers} subscribers`, latency.droverMany.deliveryMs.p99, '<=', latencyTargetMs, 'ms'),
    ];
    const undelivered = latency.droverOne.timeouts + latency.droverMany.timeouts;
    if (undelivered > 0) targets.push(target(`changes not delivered within ${deliveryTimeoutMs} ms`, undelivered, '<=', 0, ''));
    targets.push(target(`subscribers missing events at ${drover.postedPerSecond} events/s`, options.subscribers - drover.subscribersWithEveryEvent, '<=', 0, ''));
    for (const t of targets) say(describeTarget(t));
    const { load: droverLoad, ...droverFigures } = drover;
    const { load: bareLoad, ...bareFigures } = bare;
    const withoutSubscribers = { postedPerSecond: alone.postedPerSecond, postLatencyMs: alone.postLatencyMs, eventsPerBatch: alone.eventsPerBatch, serverCpuPercent: alone.serverCpuPercent, producerCpuPercent: alone.producerCpuPercent };
    return {
      id: 'event-delivery',
      title,
      database,
      figures: {
        maxPauseMs,
        latency,
        throughput: { droverWithoutSubscribers: withoutSubscribers, drover: droverFigures, bareKoa: bareFigures, perSubscriberRatio: ratio },
        loadNon201: { drover: droverLoad.requests - (droverLoad.byKind.POST?.statuses['201'] ?? 0), bareKoa: bareLoad.requests - (bareLoad.byKind.POST?.statuses['201'] ?? 0) },
      },
      targets,
      notes: [
        'latency starts when the benchmark issues the libvirt call that pauses or resumes the domain; hypervisorCallMs is that call, deliveryFromReturnMs the same samples from its return',
        'the subscribers are one child process reading every stream, so the spread between the first and the last subscriber includes the client taking its sockets in turn (the floor shows that part)',
      ],
      durationMs: Math.round(performance.now() - began),
    };
  } finally {
    for (const cleanup of cleanups) cleanup();
    if (vmId) {
      await hypervisor.domainResume(await hypervisor.domainLookupByUUIDString(vmId)).catch(() => undefined);
      await system.api.action(vmId, 'stop').catch(() => undefined);
      await system.api.delete(`/vms/${vmId}`).catch(() => undefined);
    }
    await hypervisor.connectClose().catch(() => undefined);
    await floor.close();
    await system.close();
  }
}

/**
 * Makes `changes` changes (after a few unmeasured ones), each after a random
 * pause, and waits for every subscriber to hear of each before the next;
 * `change` makes one and says when it began and which delivered event is its.
 */
async function timeChanges(
  subscribers: Subscribers,
  subscriberCount: number,
  changes: number,
  loggedAt: ReadonlyMap<number, number> | undefined,
  change: () => Promise<{ issuedAt: number; returnedAt?: number; matches: (event: Delivered) => boolean }>,
): Promise<LatencyFigures> {
  const delivery: number[] = [];
  const fromReturn: number[] = [];
  const calls: number[] = [];
  const last: number[] = [];
  const first: number[] = [];
  const sizes: number[] = [];
  const logged: number[] = [];
  const afterLogged: number[] = [];
  let timeouts = 0;
  let otherEvents = 0;
  for (let index = 0; index < warmupChanges + changes; index++) {
    await sleep(Math.random() * maxPauseMs);
    const { issuedAt, returnedAt, matches } = await change();
    const measured = index >= warmupChanges;
    const deadline = performance.now() + deliveryTimeoutMs;
    for (;;) {
      const event = await subscribers.nextDelivered(Math.max(0, deadline - performance.now()));
      if (!event) {
        if (measured) timeouts++;
        break;
      }
      if (!matches(event)) {
        otherEvents++;
        continue;
      }
      if (!measured) break;
      for (const receivedAt of event.receivedAtMs) {
        delivery.push(receivedAt - issuedAt);
        if (returnedAt !== undefined) fromReturn.push(receivedAt - returnedAt);
      }
      if (returnedAt !== undefined) calls.push(returnedAt - issuedAt);
      last.push(Math.max(...event.receivedAtMs) - issuedAt);
      first.push(Math.min(...event.receivedAtMs) - issuedAt);
      sizes.push(event.dataBytes);
      const loggedAtMs = loggedAt?.get(event.id);
      if (loggedAtMs !== undefined) {
        logged.push(loggedAtMs - issuedAt);
        for (const receivedAt of event.receivedAtMs) afterLogged.push(receivedAt - loggedAtMs);
      }
      break;
    }
  }
  sizes.sort((a, b) => a - b);
  return {
    subscribers: subscriberCount,
    changes: last.length,
    timeouts,
    deliveryMs: summarize(delivery),
    lastSubscriberMs: summarize(last),
    firstSubscriberMs: summarize(first),
    ...(calls.length ? { hypervisorCallMs: summarize(calls), deliveryFromReturnMs: summarize(fromReturn) } : {}),
    ...(logged.length ? { loggedMs: summarize(logged), afterLoggedMs: summarize(afterLogged) } : {}),
    dataBytes: sizes[Math.floor(sizes.length / 2)] ?? 0,
    otherEvents,
  };
}

/** The size of the newest event's JSON document as the stream sends it: one subscriber resumes just before it. */
async function lastEventBytes(system: InProcessSystem, stream: { host: string; port: number; path: string; ca?: string; headers: Record<string, string> }): Promise<number> {
  const newest = system.controller.services.events.lastWrittenId;
  const { subscribers } = await Subscribers.open({ ...stream, headers: { ...stream.headers, 'Last-Event-ID': String(newest - 1) }, subscribers: 1, mode: 'latency' });
  try {
    for (;;) {
      const event = await subscribers.nextDelivered(deliveryTimeoutMs);
      if (!event) throw new Error(`event ${newest} was not replayed to a subscriber that resumed after ${newest - 1}`);
      if (event.id === newest) return event.dataBytes;
    }
  } finally {
    await subscribers.close();
  }
}

function throughputFigures(load: MeasuredLoad, counts: SubscriberCount[], events: number, producersEndedAt: number, options: EventDeliveryOptions): Omit<ThroughputFigures, 'subscribersCpuPercent' | 'dataBytes'> {
  const seconds = options.durationMs / 1000;
  const posted = load.byKind.POST?.statuses['201'] ?? 0;
  const perSubscriber = counts.map((count) => count.receivedInWindow / seconds).sort((a, b) => a - b);
  const complete = counts.filter((count) => count.received === events && count.missing === 0 && count.disordered === 0 && !count.cutOff);
  const untilAt = counts.map((count) => count.untilIdAtMs ?? Number.POSITIVE_INFINITY);
  return {
    subscribers: counts.length,
    producers: options.producers,
    windowMs: options.durationMs,
    postedPerSecond: Math.round(posted / seconds),
    postLatencyMs: load.latencyMs,
    postStatuses: load.byKind.POST?.statuses ?? {},
    deliveredPerSecondPerSubscriber: { min: Math.round(perSubscriber[0] ?? 0), p50: Math.round(perSubscriber[Math.floor(perSubscriber.length / 2)] ?? 0), max: Math.round(perSubscriber[perSubscriber.length - 1] ?? 0) },
    deliveredPerSecondTotal: Math.round(perSubscriber.reduce((sum, value) => sum + value, 0)),
    events,
    subscribersWithEveryEvent: complete.length,
    missing: counts.reduce((sum, count) => sum + count.missing + Math.max(0, events - count.received - count.missing), 0),
    disordered: counts.reduce((sum, count) => sum + count.disordered, 0),
    cutOff: counts.filter((count) => count.cutOff).length,
    ended: counts.filter((count) => count.ended).length,
    drainMs: round(Math.max(0, Math.max(...untilAt) - producersEndedAt), 1),
    serverCpuPercent: load.serverCpuPercent,
    producerCpuPercent: load.clientCpuPercent,
    machineBusyPercent: load.machineBusyPercent,
  };
}

function describeLatency(name: string, figures: LatencyFigures): string {
  const call = figures.hypervisorCallMs ? `\n  libvirt call p50 ${figures.hypervisorCallMs.p50} ms; from its return: ${describeSummary(figures.deliveryFromReturnMs!)}` : '';
  const split = figures.loggedMs ? `\n  to the log's batch written: ${describeSummary(figures.loggedMs)}\n  from there to each subscriber: ${describeSummary(figures.afterLoggedMs!)}` : '';
  return `${name}: ${figures.changes} changes × ${figures.subscribers} subscriber(s), ${figures.dataBytes} B events${figures.timeouts ? `, ${figures.timeouts} NOT DELIVERED` : ''}\n  every delivery: ${describeSummary(figures.deliveryMs)}\n  last subscriber: ${describeSummary(figures.lastSubscriberMs)}${call}${split}`;
}

function describeThroughput(name: string, figures: ThroughputFigures): string {
  const per = figures.deliveredPerSecondPerSubscriber;
  const other = figures.machineBusyPercent === undefined ? '?' : Math.max(0, Math.round(figures.machineBusyPercent * cores - figures.serverCpuPercent - figures.producerCpuPercent - figures.subscribersCpuPercent));
  return [
    `${name}: ${figures.producers} producers posted ${figures.postedPerSecond} events/s (POST ${describeSummary(figures.postLatencyMs)}; statuses ${JSON.stringify(figures.postStatuses)}), ${figures.dataBytes} B events`,
    `  delivered per subscriber ${per.min} / ${per.p50} / ${per.max} events/s (min / p50 / max), ${figures.deliveredPerSecondTotal} events/s to ${figures.subscribers} subscribers in total`,
    ...(figures.eventsPerBatch === undefined ? [] : [`  ${figures.eventsPerBatch} events per batch (one write per batch to each subscriber)`]),
    `  ${figures.subscribersWithEveryEvent} of ${figures.subscribers} subscribers received all ${figures.events} events in order (missing ${figures.missing}, disordered ${figures.disordered}, cut off ${figures.cutOff}, ended ${figures.ended}); last event reached the last subscriber ${figures.drainMs} ms after the producers stopped`,
    `  CPU (% of one core): server process ${figures.serverCpuPercent}, producers ${figures.producerCpuPercent}, subscribers ${figures.subscribersCpuPercent}, other ${other}`,
  ].join('\n');
}
