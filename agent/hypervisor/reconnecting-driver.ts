import type { Logger } from '../../shared/logger.js';
import type {
  ConsoleFacts,
  ConsoleTicket,
  DomainStatus,
  IsoFileFacts,
  IsoFileRef,
  MediumFacts,
  MigrationProgress,
  MigrationTarget,
  NetworkSpec,
  RebootFacts,
  StorageSpec,
  StorageUsage,
  VmSpec,
  VolumeFacts,
  VolumeRef,
  VolumeSpec,
} from '../../shared/model.js';
import { DriverError, type DomainChangeHint, type HypervisorDriver, type NodeFacts, type Reachability } from './driver.js';

/** A driver whose connection to its hypervisor can die, and which can be opened again after close. */
export interface ReconnectableDriver extends HypervisorDriver {
  /** Whether the connection open() made still works, answered without asking the hypervisor. False before open and after close. */
  isAlive(): boolean;
  /** Asks the hypervisor the cheapest question it answers over the connection, whatever else it is busy with. */
  ping(): Promise<void>;
}

export interface ReconnectingDriverOptions {
  logger?: Logger;
  /** How often the connection's liveness is checked between calls; 500 ms unless given. */
  livenessCheckMs?: number;
  /** The first delay before reconnecting, doubled after every failed attempt up to maxBackoffMs; 250 ms unless given. */
  initialBackoffMs?: number;
  /** The longest delay between two attempts to reconnect; 5 s unless given. */
  maxBackoffMs?: number;
  /** How often the hypervisor is pinged; 5 s unless given. */
  pingIntervalMs?: number;
  /** How long a ping may go unanswered before the hypervisor counts as hung; 15 s unless given. */
  answerTimeoutMs?: number;
}

/** The driver methods that drivers may lack. */
type OptionalOperation =
  | 'listIsoFiles'
  | 'changeMedium'
  | 'readMedium'
  | 'setConsoleTicket'
  | 'describeConsole'
  | 'migrate'
  | 'migrationJob'
  | 'abortMigration'
  | 'migrationIdOf'
  | 'prepareIncoming';

function unreachable(reason: string): DriverError {
  return new DriverError('hypervisor_unreachable', `the hypervisor is unreachable: ${reason}`);
}

/**
 * Keeps a driver connected to its hypervisor. It notices a dead connection
 * (a call that failed on it, or the liveness check every livenessCheckMs),
 * then reports the loss to its reachability listeners once, closes the
 * driver and opens it again after a delay that doubles from initialBackoffMs
 * up to maxBackoffMs, until it succeeds; then it reports the hypervisor
 * reachable again. Meanwhile every method rejects at once with kind
 * `hypervisor_unreachable`, as does a call during which the connection died
 * (whatever it did is unknown). Domain change listeners stay registered
 * across reconnects.
 *
 * Every pingIntervalMs the hypervisor is also pinged (one ping at a time), so
 * that a long call (a save to disk, say) is not taken for a hung daemon. A
 * hypervisor whose ping waits answerTimeoutMs is told unreachable and new
 * calls reject at once; the connection is left open for the calls that wait
 * on it, since closing a connection under a waiting call is what libvirt's
 * client does not survive. The answer to the ping tells the hypervisor
 * reachable again; a ping that fails on a dead connection leads to the
 * reconnecting above.
 */
export class ReconnectingDriver implements HypervisorDriver {
  private lostReason?: string;
  private readonly reachabilityListeners = new Set<(reachability: Reachability) => void>();
  private livenessTimer?: NodeJS.Timeout;
  private reconnectTimer?: NodeJS.Timeout;
  private failedAttempts = 0;
  private closed = true;
  private readonly livenessCheckMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly answerTimeoutMs: number;
  private pingSince?: number;
  private lastPingAt = 0;
  private readonly pingIntervalMs: number;
  private hung = false;

  constructor(
    readonly inner: ReconnectableDriver,
    private readonly options: ReconnectingDriverOptions = {},
  ) {
    this.livenessCheckMs = options.livenessCheckMs ?? 500;
    this.initialBackoffMs = options.initialBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.answerTimeoutMs = options.answerTimeoutMs ?? 15_000;
    this.pingIntervalMs = options.pingIntervalMs ?? 5_000;
  }

  async open(): Promise<void> {
    await this.inner.open();
    this.closed = false;
    this.livenessTimer = setInterval(() => this.checkLiveness(), this.livenessCheckMs).unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.livenessTimer);
    clearTimeout(this.reconnectTimer);
    await this.inner.close();
  }

  onDomainChange(listener: (uuid: string, hint: DomainChangeHint) => void): void {
    this.inner.onDomainChange?.(listener);
  }

  onReachabilityChange(listener: (reachability: Reachability) => void): void {
    this.reachabilityListeners.add(listener);
  }

  nodeFacts(): Promise<NodeFacts> {
    return this.guard(() => this.inner.nodeFacts());
  }

  listDomains(): Promise<DomainStatus[]> {
    return this.guard(() => this.inner.listDomains());
  }

  getDomain(uuid: string): Promise<DomainStatus | undefined> {
    return this.guard(() => this.inner.getDomain(uuid));
  }

  define(spec: VmSpec): Promise<DomainStatus> {
    return this.guard(() => this.inner.define(spec));
  }

  start(uuid: string, spec?: VmSpec): Promise<DomainStatus | undefined> {
    return this.guard(() => this.inner.start(uuid, spec));
  }

  shutdown(uuid: string, timeoutMs: number): Promise<DomainStatus | undefined> {
    return this.guard(() => this.inner.shutdown(uuid, timeoutMs));
  }

  destroy(uuid: string): Promise<DomainStatus | undefined> {
    return this.guard(() => this.inner.destroy(uuid));
  }

  resume(uuid: string): Promise<DomainStatus | undefined> {
    return this.guard(() => this.inner.resume(uuid));
  }

  suspend(uuid: string): Promise<DomainStatus | undefined> {
    return this.guard(() => this.inner.suspend(uuid));
  }

  reboot(uuid: string, timeoutMs: number): Promise<{ domain: DomainStatus | undefined; reboot: RebootFacts }> {
    return this.guard(() => this.inner.reboot(uuid, timeoutMs));
  }

  reset(uuid: string): Promise<DomainStatus | undefined> {
    return this.guard(() => this.inner.reset(uuid));
  }

  undefine(uuid: string): Promise<DomainStatus | undefined> {
    return this.guard(() => this.inner.undefine(uuid));
  }

  prepareStorage(storage: StorageSpec): Promise<StorageUsage> {
    return this.guard(() => this.inner.prepareStorage(storage));
  }

  releaseStorage(storage: StorageSpec): Promise<void> {
    return this.guard(() => this.inner.releaseStorage(storage));
  }

  storageUsage(): Promise<StorageUsage[]> {
    return this.guard(() => this.inner.storageUsage());
  }

  createVolume(volume: VolumeSpec): Promise<{ volume: VolumeFacts; usage: StorageUsage }> {
    return this.guard(() => this.inner.createVolume(volume));
  }

  deleteVolume(volume: VolumeRef): Promise<StorageUsage> {
    return this.guard(() => this.inner.deleteVolume(volume));
  }

  checkVolumeUnused(volume: VolumeRef): Promise<void> {
    return this.guard(() => this.inner.checkVolumeUnused(volume));
  }

  prepareNetwork(network: NetworkSpec): Promise<void> {
    return this.guard(() => this.inner.prepareNetwork(network));
  }

  releaseNetwork(network: NetworkSpec): Promise<void> {
    return this.guard(() => this.inner.releaseNetwork(network));
  }

  listIsoFiles(storage: StorageSpec): Promise<IsoFileFacts[]> {
    return this.guard(() => this.optional('listIsoFiles')(storage));
  }

  changeMedium(uuid: string, medium: IsoFileRef | undefined): Promise<MediumFacts> {
    return this.guard(() => this.optional('changeMedium')(uuid, medium));
  }

  readMedium(uuid: string): Promise<MediumFacts> {
    return this.guard(() => this.optional('readMedium')(uuid));
  }

  setConsoleTicket(uuid: string, ticket: ConsoleTicket): Promise<ConsoleFacts> {
    return this.guard(() => this.optional('setConsoleTicket')(uuid, ticket));
  }

  describeConsole(uuid: string): Promise<ConsoleFacts> {
    return this.guard(() => this.optional('describeConsole')(uuid));
  }

  migrate(uuid: string, target: MigrationTarget): Promise<DomainStatus | undefined> {
    return this.guard(() => this.optional('migrate')(uuid, target));
  }

  migrationJob(uuid: string): Promise<MigrationProgress | undefined> {
    return this.guard(() => this.optional('migrationJob')(uuid));
  }

  abortMigration(uuid: string): Promise<void> {
    return this.guard(() => this.optional('abortMigration')(uuid));
  }

  migrationIdOf(uuid: string): Promise<string | undefined> {
    return this.guard(() => this.optional('migrationIdOf')(uuid));
  }

  prepareIncoming(spec: VmSpec): Promise<void> {
    return this.guard(() => this.optional('prepareIncoming')(spec));
  }

  plugDevice(spec: VmSpec, deviceId: string): Promise<DomainStatus | undefined> {
    return this.guard(() => this.inner.plugDevice(spec, deviceId));
  }

  unplugDevice(spec: VmSpec, deviceId: string): Promise<DomainStatus | undefined> {
    return this.guard(() => this.inner.unplugDevice(spec, deviceId));
  }

  /** One of the wrapped driver's optional methods, bound to it; one it lacks rejects with `not_supported`, as the agent answers for a driver without it. */
  private optional<Name extends OptionalOperation>(name: Name): NonNullable<HypervisorDriver[Name]> {
    const method = this.inner[name];
    if (!method) throw new DriverError('not_supported', `the hypervisor driver cannot ${name}`);
    return method.bind(this.inner) as NonNullable<HypervisorDriver[Name]>;
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    if (this.lostReason !== undefined) throw unreachable(this.lostReason);
    try {
      return await operation();
    } catch (error) {
      if (this.closed || this.inner.isAlive()) throw error;
      this.lost(DriverError.from(error).message);
      throw unreachable(this.lostReason ?? DriverError.from(error).message);
    }
  }

  private checkLiveness(): void {
    if (this.closed) return;
    if (this.hung && !this.inner.isAlive()) {
      this.hung = false;
      this.lostReason = undefined;
      this.lost('the connection to the hypervisor closed');
      return;
    }
    if (this.lostReason !== undefined) return;
    if (!this.inner.isAlive()) return this.lost('the connection to the hypervisor closed');
    const now = Date.now();
    if (this.pingSince === undefined) {
      if (now - this.lastPingAt >= this.pingIntervalMs) void this.ping();
      return;
    }
    const waitedMs = now - this.pingSince;
    if (waitedMs >= this.answerTimeoutMs) this.stoppedAnswering(Math.round(waitedMs / 1000));
  }

  private async ping(): Promise<void> {
    this.pingSince = this.lastPingAt = Date.now();
    try {
      await this.inner.ping();
      if (this.hung) this.answered();
    } catch (error) {
      if (this.hung && this.inner.isAlive()) this.answered();
      else if (!this.closed && !this.inner.isAlive()) {
        this.hung = false;
        this.lostReason = undefined;
        this.lost(DriverError.from(error).message);
      }
    } finally {
      this.pingSince = undefined;
    }
  }

  private stoppedAnswering(seconds: number): void {
    this.hung = true;
    this.lostReason = `the hypervisor has not answered for ${seconds} s`;
    this.options.logger?.warn({ reason: this.lostReason }, 'the hypervisor stopped answering; waiting for it');
    this.tell({ reachable: false, reason: this.lostReason });
  }

  private answered(): void {
    this.hung = false;
    this.lostReason = undefined;
    this.options.logger?.info('the hypervisor answers again');
    this.tell({ reachable: true });
  }

  private lost(reason: string): void {
    if (this.lostReason !== undefined || this.closed) return;
    this.lostReason = reason;
    this.options.logger?.warn({ reason }, 'lost the connection to the hypervisor; reconnecting');
    this.tell({ reachable: false, reason });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** this.failedAttempts);
    this.failedAttempts++;
    this.reconnectTimer = setTimeout(() => void this.reconnect(), delay);
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    await this.inner.close().catch(() => undefined);
    try {
      await this.inner.open();
    } catch (error) {
      this.options.logger?.debug({ err: error, attempt: this.failedAttempts }, 'could not reconnect to the hypervisor yet');
      if (!this.closed) this.scheduleReconnect();
      return;
    }
    if (this.closed) {
      await this.inner.close().catch(() => undefined);
      return;
    }
    this.failedAttempts = 0;
    this.lostReason = undefined;
    this.options.logger?.info('reconnected to the hypervisor');
    this.tell({ reachable: true });
  }

  private tell(reachability: Reachability): void {
    for (const listener of this.reachabilityListeners) {
      try {
        listener(reachability);
      } catch (error) {
        this.options.logger?.error({ err: error }, 'a reachability listener failed');
      }
    }
  }
}
