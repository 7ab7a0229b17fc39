import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Delivered, DrainJob, OpenJob, ParentMessage, SubscriberCount, WorkerMessage } from '../sse-worker.js';

export type { Delivered, SubscriberCount };
export { monotonicMs } from '../sse-worker.js';

const workerPath = fileURLToPath(new URL('../sse-worker.js', import.meta.url));

/**
 * The parent's side of `bench/sse-worker.ts`: a child process holding
 * `subscribers` SSE connections. Each request waits for the worker's answer
 * of the matching type; `delivered` messages (latency mode) are queued until
 * `nextDelivered` takes them.
 */
export class Subscribers {
  private readonly child: ChildProcess;
  private readonly delivered: Delivered[] = [];
  private readonly waiters = new Map<WorkerMessage['type'], (message: WorkerMessage) => void>();
  private deliveredWaiter?: () => void;
  private failure?: Error;

  private constructor() {
    this.child = fork(workerPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: WorkerMessage) => {
      if (message.type === 'delivered') {
        this.delivered.push(message);
        this.deliveredWaiter?.();
        return;
      }
      if (message.type === 'error') this.fail(new Error(`SSE worker: ${message.message}`));
      const waiter = this.waiters.get(message.type);
      this.waiters.delete(message.type);
      waiter?.(message);
    });
    this.child.on('exit', (code) => this.fail(new Error(`the SSE worker exited with ${code}`)));
  }

  /** Opens the subscribers; fails unless every one answered 200. */
  static async open(job: Omit<OpenJob, 'type'>): Promise<{ subscribers: Subscribers; connectMs: number }> {
    const subscribers = new Subscribers();
    const opened = await subscribers.ask<{ type: 'opened'; connectMs: number; statuses: number[] }>({ type: 'open', ...job }, 'opened', 60_000);
    const refused = opened.statuses.filter((status) => status !== 200);
    if (refused.length) {
      await subscribers.close();
      throw new Error(`${refused.length} of ${job.subscribers} subscribers were answered ${[...new Set(refused)].join(', ')}`);
    }
    return { subscribers, connectMs: opened.connectMs };
  }

  /** The next event every subscriber has received, at most `timeoutMs` from now; undefined when none came. */
  async nextDelivered(timeoutMs: number): Promise<Delivered | undefined> {
    if (this.failure) throw this.failure;
    if (this.delivered.length) return this.delivered.shift();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.deliveredWaiter = done;
    });
    this.deliveredWaiter = undefined;
    if (this.failure) throw this.failure;
    return this.delivered.shift();
  }

  /** The worker's CPU time so far (ms) and the instant it was read. */
  mark(): Promise<{ cpuMs: number; atMs: number }> {
    return this.ask<Extract<WorkerMessage, { type: 'marked' }>>({ type: 'mark' }, 'marked', 10_000);
  }

  drain(job: Omit<DrainJob, 'type'>): Promise<{ subscribers: SubscriberCount[]; cpuMs: number }> {
    return this.ask<Extract<WorkerMessage, { type: 'drained' }>>({ type: 'drain', ...job }, 'drained', job.timeoutMs + 10_000);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.failure ??= new Error('closed');
    this.child.send({ type: 'close' } satisfies ParentMessage);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  }

  private ask<T extends WorkerMessage>(message: ParentMessage, answer: T['type'], timeoutMs: number): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(answer);
        reject(new Error(`the SSE worker did not answer ${message.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(answer, (reply) => {
        clearTimeout(timer);
        if (reply.type === 'error') reject(new Error(`SSE worker: ${reply.message}`));
        else resolve(reply as T);
      });
      this.child.send(message);
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const [type, waiter] of this.waiters) {
      this.waiters.delete(type);
      waiter({ type: 'error', message: error.message });
    }
    this.deliveredWaiter?.();
  }
}
