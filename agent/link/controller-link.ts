import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../shared/logger.js';
import type { CommandOutcome, DomainChange, DomainStatus, HostCommand, HostFacts, MigrationProgress, StorageUsage } from '../../shared/model.js';
import type { Reachability } from '../hypervisor/driver.js';
import { decodeCommand, encodeDomain, encodeHello, encodeMigrationProgress, encodeOutcome, encodeUsage } from '../../shared/proto/codec.js';
import {
  loadAgentProtocol,
  type AgentGatewayClient,
  type AgentMessage,
  type Command__Output,
  type ControllerMessage__Output,
} from '../../shared/proto/load.js';

export interface ControllerLinkOptions {
  address: string;
  /** The credentials of each new session's channel: the agent's certificate, and only the controller's CA trusted. */
  credentials: () => grpc.ChannelCredentials;
  hello: () => HostFacts;
  inventory: () => DomainStatus[];
  /** Whether the hypervisor is reachable now; a session that begins while it is not reports that in place of the Inventory. Always reachable unless given. */
  hypervisor?: () => Reachability;
  execute: (command: HostCommand) => Promise<CommandOutcome>;
  /** The space of the storage domains the host prepared, reported after the Inventory and then every storageReportIntervalMs. */
  storageUsage?: () => Promise<StorageUsage[]>;
  storageReportIntervalMs?: number;
  logger: Logger;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  welcomeTimeoutMs?: number;
}

interface Session {
  client: AgentGatewayClient;
  call: grpc.ClientDuplexStream<AgentMessage, ControllerMessage__Output>;
  welcomed: boolean;
  closed: boolean;
  heartbeatSequence: number;
  heartbeatTimer?: NodeJS.Timeout;
  storageTimer?: NodeJS.Timeout;
  welcomeTimer?: NodeJS.Timeout;
}

const channelOptions: grpc.ChannelOptions = {
  'grpc.use_local_subchannel_pool': 1,
  'grpc.keepalive_time_ms': 20_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 5_000,
};

const defaultHeartbeatIntervalMs = 5_000;

/**
 * Keeps one AgentGateway session with the controller open, reconnecting with
 * exponential backoff and jitter whenever it breaks. It emits `ready` once a
 * session is welcomed and its Inventory is sent, and `disconnected` when a
 * session ends.
 */
export class ControllerLink extends EventEmitter {
  private session?: Session;
  private stopped = true;
  private failedAttempts = 0;
  private reconnectTimer?: NodeJS.Timeout;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly welcomeTimeoutMs: number;

  constructor(private readonly options: ControllerLinkOptions) {
    super();
    this.initialBackoffMs = options.initialBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.welcomeTimeoutMs = options.welcomeTimeoutMs ?? 10_000;
  }

  get connected(): boolean {
    return this.session?.welcomed ?? false;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const session = this.session;
    if (!session) return;
    const ended = new Promise<void>((resolve) => {
      session.call.once('status', () => resolve());
      setTimeout(resolve, 1_000).unref();
    });
    session.call.end();
    await ended;
    this.close(session);
  }

  /** Ends the current session, if any, and opens a new one at once (with the credentials as they are now). */
  restart(): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    if (this.session) this.close(this.session);
    this.failedAttempts = 0;
    this.connect();
  }

  reportChange(change: DomainChange): void {
    const session = this.session;
    if (!session?.welcomed) return;
    this.send(session, { state_change: { domain: encodeDomain(change.domain), removed: change.removed } });
  }

  /** Sends how the migration of an executing MIGRATE advances, on the current session; without one it is dropped. */
  reportMigrationProgress(commandId: string, vmId: string, progress: MigrationProgress): void {
    const session = this.session;
    if (!session?.welcomed) return;
    this.send(session, { migration_progress: encodeMigrationProgress(commandId, vmId, progress) });
  }

  /**
   * Tells the controller that the hypervisor became unreachable, with the
   * reason, or, once it is reachable again, sends a full Inventory (which
   * the caller makes sure is current).
   */
  reportHypervisor(reachability: Reachability): void {
    const session = this.session;
    if (!session?.welcomed) return;
    this.sendHypervisorState(session, reachability);
  }

  private sendHypervisorState(session: Session, reachability: Reachability): void {
    if (reachability.reachable) this.send(session, { inventory: { domains: this.options.inventory().map(encodeDomain) } });
    else this.send(session, { hypervisor_unreachable: { reason: reachability.reason } });
  }

  private connect(): void {
    if (this.stopped) return;
    const { AgentGateway } = loadAgentProtocol().drover.agent.v1;
    const client = new AgentGateway(this.options.address, this.options.credentials(), channelOptions);
    const call = client.Session();
    const session: Session = { client, call, welcomed: false, closed: false, heartbeatSequence: 0 };
    this.session = session;
    call.on('data', (message: ControllerMessage__Output) => this.receive(session, message));
    call.on('error', (error: grpc.ServiceError) => this.broken(session, error.details || error.message));
    call.on('end', () => this.broken(session, 'the controller ended the session'));
    session.welcomeTimer = setTimeout(() => this.broken(session, 'no Welcome in time'), this.welcomeTimeoutMs);
    this.send(session, { hello: encodeHello(this.options.hello()) });
  }

  private receive(session: Session, message: ControllerMessage__Output): void {
    if (session.closed) return;
    if (message.welcome) this.welcomed(session, message.welcome.heartbeat_interval_ms);
    else if (message.command) void this.answer(session, message.command);
  }

  private welcomed(session: Session, heartbeatIntervalMs: number): void {
    if (session.welcomed) return;
    clearTimeout(session.welcomeTimer);
    this.sendHypervisorState(session, this.options.hypervisor?.() ?? { reachable: true });
    session.welcomed = true;
    this.failedAttempts = 0;
    const interval = heartbeatIntervalMs > 0 ? heartbeatIntervalMs : defaultHeartbeatIntervalMs;
    session.heartbeatTimer = setInterval(() => this.send(session, { heartbeat: { sequence: ++session.heartbeatSequence } }), interval);
    if (this.options.storageUsage) {
      void this.reportStorage(session);
      session.storageTimer = setInterval(() => void this.reportStorage(session), this.options.storageReportIntervalMs ?? 60_000);
    }
    this.options.logger.info({ address: this.options.address, heartbeatIntervalMs: interval }, 'connected to the controller');
    this.emit('ready');
  }

  private async reportStorage(session: Session): Promise<void> {
    try {
      const usage = await this.options.storageUsage!();
      if (usage.length) this.send(session, { storage_report: { usage: usage.map(encodeUsage) } });
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not measure the storage domains');
    }
  }

  private async answer(session: Session, received: Command__Output): Promise<void> {
    let command: HostCommand;
    try {
      command = decodeCommand(received);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.send(session, { command_result: encodeOutcome(received.command_id, { ok: false, error: 'invalid_command', message }) });
      return;
    }
    try {
      const outcome = await this.options.execute(command);
      this.send(session, { command_result: encodeOutcome(command.commandId, outcome) });
    } catch (error) {
      this.options.logger.error({ err: error, commandId: command.commandId }, 'command execution threw');
    }
  }

  private send(session: Session, message: AgentMessage): void {
    if (session.closed) return;
    session.call.write(message);
  }

  private broken(session: Session, reason: string): void {
    if (session.closed) return;
    const wasWelcomed = session.welcomed;
    this.close(session);
    if (this.stopped) return;
    const delay = this.nextBackoff();
    const firstFailure = wasWelcomed || this.failedAttempts === 1;
    this.options.logger[firstFailure ? 'warn' : 'debug']({ reason, retryInMs: delay, address: this.options.address }, 'no controller session');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private close(session: Session): void {
    if (session.closed) return;
    session.closed = true;
    clearTimeout(session.welcomeTimer);
    clearInterval(session.heartbeatTimer);
    clearInterval(session.storageTimer);
    session.call.cancel();
    session.client.close();
    if (this.session === session) this.session = undefined;
    if (session.welcomed) this.emit('disconnected');
  }

  private nextBackoff(): number {
    const ceiling = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** this.failedAttempts);
    this.failedAttempts++;
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}
