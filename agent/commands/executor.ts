import type { Logger } from '../../shared/logger.js';
import type { CommandKind, CommandOutcome, DomainStatus, HostCommand, VmSpec } from '../../shared/model.js';
import { DriverError, type HypervisorDriver } from '../hypervisor/driver.js';
import type { CommandJournal } from './journal.js';

export interface CommandExecutorOptions {
  driver: HypervisorDriver;
  journal: CommandJournal;
  shutdownTimeoutMs: number;
  /** Receives the domain's state as read right after every executed command, before its outcome is returned. */
  afterCommand?: (uuid: string, domain: DomainStatus | undefined) => void;
  logger?: Logger;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const alreadyDone: Record<CommandKind, (domain: DomainStatus | undefined) => boolean> = {
  define: () => false,
  start: (domain) => domain?.state === 'running',
  shutdown: (domain) => domain?.state === 'shutoff',
  destroy: (domain) => domain?.state === 'shutoff',
  pause: (domain) => domain?.state === 'paused',
  resume: (domain) => domain?.state === 'running',
  suspend: (domain) => domain?.state === 'suspended',
  reboot: () => false,
  undefine: (domain) => domain === undefined,
};

function isPositiveInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

function specProblem(spec: VmSpec, vmId: string): string | undefined {
  if (spec.id.toLowerCase() !== vmId.toLowerCase()) return `spec id ${spec.id} differs from vm id ${vmId}`;
  if (!spec.name) return 'spec has no name';
  if (!isPositiveInteger(spec.memoryBytes) || spec.memoryBytes < 2 ** 20) return `memory ${spec.memoryBytes} bytes is not a whole number of at least 1 MiB`;
  const { sockets, cores, threads } = spec.cpu;
  if (![sockets, cores, threads].every(isPositiveInteger)) return `cpu topology ${sockets}/${cores}/${threads} is not positive`;
  if (spec.displayType !== 'vnc' && spec.displayType !== 'spice') return `display type ${String(spec.displayType)} is unknown`;
  return undefined;
}

export function commandProblem(command: HostCommand): string | undefined {
  if (!command.commandId) return 'command id is empty';
  if (!uuidPattern.test(command.vmId)) return `vm id ${command.vmId} is not a UUID`;
  if (command.kind === 'define' && !command.spec) return 'define needs a spec';
  if (command.spec) return specProblem(command.spec, command.vmId);
  return undefined;
}

/**
 * Executes host commands through the hypervisor driver, at most once per
 * command id: a repeated id gets the journaled first outcome, and an id that
 * is still executing gets the same pending outcome.
 */
export class CommandExecutor {
  private readonly inFlight = new Map<string, Promise<CommandOutcome>>();
  private readonly definedSpecs = new Map<string, string>();
  private closed = false;

  constructor(private readonly options: CommandExecutorOptions) {}

  execute(command: HostCommand): Promise<CommandOutcome> {
    if (this.closed) return Promise.reject(new Error('the command executor is closed'));
    const pending = this.inFlight.get(command.commandId);
    if (pending) return pending;
    const journaled = this.options.journal.get(command.commandId);
    if (journaled) return Promise.resolve(journaled);
    const outcome = this.executeOnce(command).finally(() => this.inFlight.delete(command.commandId));
    this.inFlight.set(command.commandId, outcome);
    return outcome;
  }

  /**
   * Refuses new commands and stops journaling: outcomes of commands still
   * executing may be failures caused by the agent stopping, so the controller
   * must get them from a re-execution after the agent restarts.
   */
  close(): void {
    this.closed = true;
  }

  private async executeOnce(command: HostCommand): Promise<CommandOutcome> {
    this.options.logger?.info({ commandId: command.commandId, kind: command.kind, vmId: command.vmId }, 'executing command');
    const outcome = await this.outcomeOf(command);
    if (this.closed) return outcome;
    this.options.logger?.info({ command, outcome }, 'command executed');
    try {
      await this.options.journal.record(command.commandId, outcome);
    } catch (error) {
      this.options.logger?.error({ err: error, commandId: command.commandId }, 'could not journal a command outcome');
    }
    return outcome;
  }

  private async outcomeOf(command: HostCommand): Promise<CommandOutcome> {
    const problem = commandProblem(command);
    if (problem) return { ok: false, error: 'invalid_command', message: problem };
    try {
      const domain = await this.perform(command);
      this.options.afterCommand?.(command.vmId, domain);
      return { ok: true, domain };
    } catch (error) {
      const failure = DriverError.from(error);
      const domain = await this.options.driver.getDomain(command.vmId).catch(() => undefined);
      this.options.afterCommand?.(command.vmId, domain);
      return { ok: false, error: failure.kind, message: failure.message, domain };
    }
  }

  /** Performs the command and resolves with the domain's state afterwards. */
  private async perform(command: HostCommand): Promise<DomainStatus | undefined> {
    const uuid = command.vmId;
    if (command.kind === 'define') {
      this.definedSpecs.delete(uuid);
      const defined = await this.options.driver.define(command.spec!);
      this.definedSpecs.set(uuid, JSON.stringify(command.spec));
      return defined;
    }
    if (command.spec && command.kind === 'start') await this.define(command.spec);
    try {
      return await this.operate(command);
    } catch (error) {
      const failure = DriverError.from(error);
      if (failure.kind === 'domain_not_found' && command.kind === 'start' && command.spec && this.definedSpecs.delete(uuid)) {
        await this.define(command.spec);
        return this.operate(command);
      }
      if (failure.kind !== 'invalid_state' && failure.kind !== 'domain_not_found') throw failure;
      const domain = await this.options.driver.getDomain(uuid);
      if (alreadyDone[command.kind](domain)) return domain;
      if (command.kind === 'start' && (domain?.state === 'paused' || domain?.state === 'pm_suspended')) return this.options.driver.resume(uuid);
      throw failure;
    }
  }

  /** Defines the domain unless this executor already defined it from the same spec. */
  private async define(spec: VmSpec): Promise<void> {
    const key = JSON.stringify(spec);
    if (this.definedSpecs.get(spec.id) === key) return;
    this.definedSpecs.delete(spec.id);
    await this.options.driver.define(spec);
    this.definedSpecs.set(spec.id, key);
  }

  private async operate(command: HostCommand): Promise<DomainStatus | undefined> {
    const { driver, shutdownTimeoutMs } = this.options;
    const uuid = command.vmId;
    switch (command.kind) {
      case 'define':
        return this.options.driver.getDomain(uuid);
      case 'start':
        return driver.start(uuid);
      case 'shutdown':
        return driver.shutdown(uuid, shutdownTimeoutMs);
      case 'destroy':
        return driver.destroy(uuid);
      case 'pause':
        return driver.pause(uuid);
      case 'resume':
        return driver.resume(uuid);
      case 'suspend':
        return driver.suspend(uuid);
      case 'reboot':
        return driver.reboot(uuid, shutdownTimeoutMs);
      case 'undefine':
        this.definedSpecs.delete(uuid);
        return driver.undefine(uuid);
    }
  }
}
