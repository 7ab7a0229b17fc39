import type { Logger } from '../../shared/logger.js';
import type { CommandOutcome, OutcomeFacts, DeviceCommand, DomainCommand, DomainCommandKind, DomainStatus, HostCommand, StorageCommand, StorageSpec, VmSpec, VolumeRef } from '../../shared/model.js';
import { DriverError, type HypervisorDriver } from '../hypervisor/driver.js';
import type { CommandJournal } from './journal.js';

export interface CommandExecutorOptions {
  driver: HypervisorDriver;
  journal: CommandJournal;
  shutdownTimeoutMs: number;
  /** Receives the domain's state as read right after every executed command, before its outcome (which carries the same state) is returned. */
  afterCommand?: (uuid: string, domain: DomainStatus | undefined) => void;
  /** Called when a command on a domain begins; the function it returns is called once the command has ended and its outcome is journaled. */
  duringCommand?: (uuid: string) => () => void;
  logger?: Logger;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const alreadyDone: Record<DomainCommandKind, (domain: DomainStatus | undefined) => boolean> = {
  define: () => false,
  start: (domain) => domain?.state === 'running',
  shutdown: (domain) => domain?.state === 'shutoff',
  destroy: (domain) => domain?.state === 'shutoff',
  resume: (domain) => domain?.state === 'running',
  suspend: (domain) => domain?.state === 'suspended',
  reboot: () => false,
  undefine: (domain) => domain === undefined,
};

function isPositiveInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

const macPattern = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const addressPattern = /^[A-Za-z0-9.:[\]-]{0,255}$/;

function storageProblem(storage: StorageSpec): string | undefined {
  if (!uuidPattern.test(storage.id)) return `storage domain id ${storage.id} is not a UUID`;
  if (!storage.path.startsWith('/') || storage.path.split('/').includes('..')) return `storage path ${storage.path} is not an absolute path without ".."`;
  if (!addressPattern.test(storage.address)) return `storage address ${storage.address} is not a host name or address`;
  return undefined;
}

function volumeProblem(volume: VolumeRef): string | undefined {
  if (!uuidPattern.test(volume.volumeId)) return `volume id ${volume.volumeId} is not a UUID`;
  return storageProblem(volume.storage);
}

function specProblem(spec: VmSpec, vmId: string): string | undefined {
  if (spec.id.toLowerCase() !== vmId.toLowerCase()) return `spec id ${spec.id} differs from vm id ${vmId}`;
  if (!spec.name) return 'spec has no name';
  if (!isPositiveInteger(spec.memoryBytes) || spec.memoryBytes < 2 ** 20) return `memory ${spec.memoryBytes} bytes is not a whole number of at least 1 MiB`;
  const { sockets, cores, threads } = spec.cpu;
  if (![sockets, cores, threads].every(isPositiveInteger)) return `cpu topology ${sockets}/${cores}/${threads} is not positive`;
  if (spec.displayType !== 'vnc' && spec.displayType !== 'spice') return `display type ${String(spec.displayType)} is unknown`;
  for (const disk of spec.disks) {
    const problem = volumeProblem(disk.volume) ?? (disk.diskId === disk.volume.volumeId ? undefined : `disk ${disk.diskId} names volume ${disk.volume.volumeId}`);
    if (problem) return problem;
  }
  for (const nic of spec.nics) {
    if (!uuidPattern.test(nic.nicId)) return `NIC id ${nic.nicId} is not a UUID`;
    if (!macPattern.test(nic.mac)) return `NIC ${nic.nicId} has no valid MAC address`;
    if (nic.network && !uuidPattern.test(nic.network.id)) return `network id ${nic.network.id} is not a UUID`;
  }
  return undefined;
}

function isStorageCommand(command: HostCommand): command is StorageCommand {
  return 'storage' in command;
}

function isDeviceCommand(command: HostCommand): command is DeviceCommand {
  return command.kind === 'plug_device' || command.kind === 'unplug_device';
}

export function commandProblem(command: HostCommand): string | undefined {
  if (!command.commandId) return 'command id is empty';
  if (isStorageCommand(command)) {
    if (command.kind === 'create_volume') {
      if (!command.volume) return 'create_volume needs a volume';
      const { volume } = command;
      if (!isPositiveInteger(volume.capacityBytes)) return `volume capacity ${volume.capacityBytes} is not a positive whole number`;
      if (volume.backing && volume.format !== 'qcow2') return 'only a qcow2 volume can have a backing volume';
      if (volume.backing && volume.copyOf) return 'a volume is either backed by another or a copy of one, not both';
      return volumeProblem(volume) ?? (volume.backing && volumeProblem(volume.backing)) ?? (volume.copyOf && volumeProblem(volume.copyOf)) ?? undefined;
    }
    if (command.kind === 'delete_volume') return command.volumeRef ? volumeProblem(command.volumeRef) : 'delete_volume needs a volume';
    return storageProblem(command.storage);
  }
  if (!uuidPattern.test(command.vmId)) return `vm id ${command.vmId} is not a UUID`;
  if (isDeviceCommand(command)) {
    const problem = specProblem(command.spec, command.vmId);
    if (problem) return problem;
    const known = command.spec.disks.some((disk) => disk.diskId === command.deviceId) || command.spec.nics.some((nic) => nic.nicId === command.deviceId);
    return known ? undefined : `the spec has no device ${command.deviceId}`;
  }
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
    const vmId = 'vmId' in command ? command.vmId : undefined;
    this.options.logger?.info({ commandId: command.commandId, kind: command.kind, vmId }, 'executing command');
    const ended = vmId ? this.options.duringCommand?.(vmId) : undefined;
    try {
      const outcome = await this.outcomeOf(command);
      if (this.closed) return outcome;
      this.options.logger?.info({ command, outcome }, 'command executed');
      try {
        await this.options.journal.record(command.commandId, outcome);
      } catch (error) {
        this.options.logger?.error({ err: error, commandId: command.commandId }, 'could not journal a command outcome');
      }
      return outcome;
    } finally {
      ended?.();
    }
  }

  private async outcomeOf(command: HostCommand): Promise<CommandOutcome> {
    const problem = commandProblem(command);
    if (problem) return { ok: false, error: 'invalid_command', message: problem };
    if (isStorageCommand(command)) return this.storageOutcome(command);
    if (isDeviceCommand(command)) return this.deviceOutcome(command);
    return this.domainOutcome(command);
  }

  private async storageOutcome(command: StorageCommand): Promise<CommandOutcome> {
    const { driver } = this.options;
    try {
      switch (command.kind) {
        case 'prepare_storage':
          return { ok: true, storage: await driver.prepareStorage(command.storage) };
        case 'release_storage':
          await driver.releaseStorage(command.storage);
          return { ok: true };
        case 'create_volume': {
          const { volume, usage } = await driver.createVolume(command.volume!);
          return { ok: true, volume, storage: usage };
        }
        case 'delete_volume':
          return { ok: true, storage: await driver.deleteVolume(command.volumeRef!) };
      }
    } catch (error) {
      const failure = DriverError.from(error);
      return { ok: false, error: failure.kind, message: failure.message };
    }
  }

  private async deviceOutcome(command: DeviceCommand): Promise<CommandOutcome> {
    const { driver } = this.options;
    this.definedSpecs.delete(command.vmId);
    try {
      const domain = command.kind === 'plug_device' ? await driver.plugDevice(command.spec, command.deviceId) : await driver.unplugDevice(command.spec, command.deviceId);
      this.options.afterCommand?.(command.vmId, domain);
      return { ok: true, domain };
    } catch (error) {
      const failure = DriverError.from(error);
      return { ok: false, error: failure.kind, message: failure.message, ...(await this.stateAfterFailure(command.vmId)) };
    }
  }

  private async domainOutcome(command: DomainCommand): Promise<CommandOutcome> {
    try {
      const domain = await this.perform(command);
      this.options.afterCommand?.(command.vmId, domain);
      return { ok: true, domain };
    } catch (error) {
      const failure = DriverError.from(error);
      const facts = await this.stateAfterFailure(command.vmId);
      if (!facts.domainUnknown) this.options.afterCommand?.(command.vmId, facts.domain);
      return { ok: false, error: failure.kind, message: failure.message, ...facts };
    }
  }

  /**
   * Reads the domain's state after a failed command. A read that fails too
   * says nothing about the domain (least of all that it is gone): the
   * outcome then carries domainUnknown.
   */
  private async stateAfterFailure(uuid: string): Promise<Pick<OutcomeFacts, 'domain' | 'domainUnknown'>> {
    try {
      return { domain: await this.options.driver.getDomain(uuid) };
    } catch {
      return { domainUnknown: true };
    }
  }

  /** Performs the command and resolves with the domain's state afterwards. */
  private async perform(command: DomainCommand): Promise<DomainStatus | undefined> {
    const uuid = command.vmId;
    if (command.kind === 'define') {
      this.definedSpecs.delete(uuid);
      const defined = await this.options.driver.define(command.spec!);
      this.definedSpecs.set(uuid, JSON.stringify(command.spec));
      return defined;
    }
    try {
      if (command.spec && command.kind === 'start') return await this.startFrom(command.spec);
      return await this.operate(command);
    } catch (error) {
      const failure = DriverError.from(error);
      if (failure.kind === 'domain_not_found' && command.kind === 'start' && command.spec && this.definedSpecs.delete(uuid)) return this.startFrom(command.spec);
      if (failure.kind !== 'invalid_state' && failure.kind !== 'domain_not_found') throw failure;
      const domain = await this.options.driver.getDomain(uuid);
      if (alreadyDone[command.kind](domain)) return domain;
      if (command.kind === 'start' && (domain?.state === 'paused' || domain?.state === 'pm_suspended')) return this.options.driver.resume(uuid);
      throw failure;
    }
  }

  /** Starts the domain, defining it in the same step unless this executor already defined it from the same spec. */
  private async startFrom(spec: VmSpec): Promise<DomainStatus | undefined> {
    const key = JSON.stringify(spec);
    if (this.definedSpecs.get(spec.id) === key) return this.options.driver.start(spec.id);
    this.definedSpecs.delete(spec.id);
    const started = await this.options.driver.start(spec.id, spec);
    this.definedSpecs.set(spec.id, key);
    return started;
  }

  private async operate(command: DomainCommand): Promise<DomainStatus | undefined> {
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
