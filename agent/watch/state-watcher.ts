import type { DomainChange, DomainStatus } from '../../shared/model.js';
import type { DomainChangeHint, HypervisorDriver } from '../hypervisor/driver.js';

export interface StateWatcherOptions {
  driver: HypervisorDriver;
  pollIntervalMs?: number;
  /** How long after a command the reads its change reports cause are held back (see hold); 20 ms unless given. */
  settleMs?: number;
  onChange: (change: DomainChange) => void;
  onError?: (error: unknown) => void;
}

function differs(a: DomainStatus, b: DomainStatus): boolean {
  return a.state !== b.state || a.name !== b.name || a.managed !== b.managed;
}

/**
 * Polls the driver's domain list and reports every difference to the previous
 * poll as a DomainChange, in the order the domains were listed. Besides the
 * interval poll, when a driver reports that a domain changed, that one domain
 * is read at once (one read in flight per domain, and one more queued behind
 * it), so changes show within milliseconds at the cost of one lookup each.
 * While a command runs on a domain (see hold), the reads its own changes would
 * cause wait until it has ended, and then become one.
 */
export class StateWatcher {
  private known = new Map<string, DomainStatus>();
  private readonly observedAt = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private current?: Promise<void>;
  private queued?: Promise<void>;
  private readonly pollIntervalMs: number;
  private readonly settleMs: number;
  private readonly looking = new Map<string, { again: boolean }>();
  private readonly held = new Map<string, { holds: number; changed: boolean; lastHint: DomainChangeHint }>();

  constructor(private readonly options: StateWatcherOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.settleMs = options.settleMs ?? 20;
    options.driver.onDomainChange?.((uuid, hint) => {
      if (!this.running) return;
      const hold = this.held.get(uuid);
      if (!hold) void this.lookAt(uuid);
      else if (hint !== 'definition') Object.assign(hold, { changed: true, lastHint: hint });
    });
  }

  /**
   * Holds back the reads that the driver's change reports on one domain
   * would cause, until settleMs after the returned function is called: a
   * command on the domain reports its state through observe, and the changes
   * reported meanwhile (a hypervisor reports a command's own changes a moment
   * after it returns) are read once afterwards, rather than while the
   * command runs and once per report. No read is needed when the last of
   * them implies the state already known, or when they only redefined the
   * domain: the command's own observation covers them.
   */
  hold(uuid: string): () => void {
    const hold = this.held.get(uuid) ?? { holds: 0, changed: false, lastHint: undefined };
    hold.holds++;
    this.held.set(uuid, hold);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const end = () => {
        if (--hold.holds > 0) return;
        this.held.delete(uuid);
        if (hold.changed && this.running && !this.explains(uuid, hold.lastHint)) void this.lookAt(uuid);
      };
      if (this.settleMs > 0) setTimeout(end, this.settleMs).unref();
      else setImmediate(end);
    };
  }

  /** Takes the first snapshot, then polls every pollIntervalMs, and whenever the driver reports a change, until stopped. */
  async start(): Promise<void> {
    this.running = true;
    await this.pollNow();
    this.scheduleNext();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.looking.clear();
    clearTimeout(this.timer);
    await this.queued;
    await this.current;
  }

  /** The domains as of the last poll. */
  snapshot(): DomainStatus[] {
    return [...this.known.values()];
  }

  /**
   * Polls as soon as possible. A call during a poll queues one more poll after
   * it, so the result always reflects the domains after the call was made.
   */
  pollNow(): Promise<void> {
    if (this.queued) return this.queued;
    if (this.current) {
      this.queued = this.current.then(() => {
        this.queued = undefined;
        return this.pollNow();
      });
      return this.queued;
    }
    this.current = this.pollOnce().finally(() => {
      this.current = undefined;
    });
    return this.current;
  }

  /**
   * Takes in one domain's state read outside a poll (after a command), and
   * reports it at once if it changed, unless `reportedElsewhere` says the
   * controller learns it another way (a command's outcome carries it); a
   * domain's disappearance is always reported. A poll that began before this
   * observation does not overwrite it.
   */
  observe(uuid: string, domain: DomainStatus | undefined, options: { reportedElsewhere?: boolean } = {}): void {
    this.observedAt.set(uuid, performance.now());
    const before = this.known.get(uuid);
    if (domain) {
      this.known.set(uuid, domain);
      if ((!before || differs(before, domain)) && !options.reportedElsewhere) this.emit({ domain, removed: false });
    } else if (before) {
      this.known.delete(uuid);
      this.emit({ domain: before, removed: true });
    }
  }

  private explains(uuid: string, hint: DomainChangeHint): boolean {
    return hint !== undefined && this.known.get(uuid)?.state === hint;
  }

  private async lookAt(uuid: string): Promise<void> {
    const inFlight = this.looking.get(uuid);
    if (inFlight) {
      inFlight.again = true;
      return;
    }
    const look = { again: true };
    this.looking.set(uuid, look);
    try {
      while (look.again && this.running) {
        look.again = false;
        this.observe(uuid, await this.options.driver.getDomain(uuid));
      }
    } catch (error) {
      this.options.onError?.(error);
    } finally {
      this.looking.delete(uuid);
    }
  }

  private scheduleNext(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.pollNow().then(() => this.scheduleNext());
    }, this.pollIntervalMs);
  }

  private async pollOnce(): Promise<void> {
    const startedAt = performance.now();
    let listed: DomainStatus[];
    try {
      listed = await this.options.driver.listDomains();
    } catch (error) {
      this.options.onError?.(error);
      return;
    }
    const previous = this.known;
    const observedSince = (uuid: string) => (this.observedAt.get(uuid) ?? -Infinity) > startedAt;
    const next = new Map(listed.filter((domain) => !observedSince(domain.uuid)).map((domain) => [domain.uuid, domain]));
    for (const [uuid, domain] of previous) if (observedSince(uuid)) next.set(uuid, domain);
    this.known = next;
    for (const domain of next.values()) {
      const before = previous.get(domain.uuid);
      if (!before || differs(before, domain)) this.emit({ domain, removed: false });
    }
    for (const [uuid, domain] of previous) {
      if (!next.has(uuid)) this.emit({ domain, removed: true });
    }
    for (const [uuid, at] of this.observedAt) if (at <= startedAt) this.observedAt.delete(uuid);
  }

  private emit(change: DomainChange): void {
    try {
      this.options.onChange(change);
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
