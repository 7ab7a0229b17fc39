import type { Logger } from '../../shared/logger.js';
import {
  isConsoleCommand,
  isMigrationCommand,
  mediumCommandKinds,
  networkCommandKinds,
  type CommandKind,
  type CommandOutcome,
  type ConsoleCommand,
  type DeviceCommand,
  type DomainCommand,
  type DomainCommandKind,
  type DomainStatus,
  type HostCommand,
  type IsoFileRef,
  type MediumCommand,
  type NetworkCommand,
  type NetworkSpec,
  type OutcomeFacts,
  type StorageCommand,
  type StorageSpec,
  type VmSpec,
  type VolumeRef,
} from '../../shared/model.js';
import { isIsoFileName } from '../../shared/iso-files.js';
import { DriverError, type HypervisorDriver } from '../hypervisor/driver.js';
import type { CommandJournal } from './journal.js';

export interface CommandExecutorOptions {
  driver: HypervisorDriver;
  journal: CommandJournal;
  shutdownTimeoutMs: number;
  /** How long a reboot waits for the guest to restart before it resets the domain. */
  rebootTimeoutMs: number;
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
  reset: () => false,
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

function isoFileProblem(file: IsoFileRef): string | undefined {
  if (!isIsoFileName(file.name)) return `ISO file name ${JSON.stringify(file.name)} is not a plain file name`;
  return storageProblem(file.storage);
}

function specProblem(spec: VmSpec, vmId: string): string | undefined {
  if (spec.id.toLowerCase() !== vmId.toLowerCase()) return `spec id ${spec.id} differs from vm id ${vmId}`;
  if (!spec.name) return 'spec has no name';
  if (!isPositiveInteger(spec.memoryBytes) || spec.memoryBytes < 2 ** 20) return `memory ${spec.memoryBytes} bytes is not a whole number of at least 1 MiB`;
  const { sockets, cores, threads } = spec.cpu;
  if (![sockets, cores, threads].every(isPositiveInteger)) return `cpu topology ${sockets}/${cores}/${threads} is not positive`;
  if (spec.displayType !== 'vnc' && spec.displayType !== 'spice') return `display type ${String(spec.displayType)} is unknown`;
  if (spec.customCpuModel !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(spec.customCpuModel)) return `CPU model ${spec.customCpuModel} is not a QEMU model name`;
  if (spec.machine !== undefined && !/^(q35|pc|i440fx|pc-(q35|i440fx)-[A-Za-z0-9.]{1,40})$/.test(spec.machine)) return `machine ${spec.machine} is not a q35 or i440fx machine type`;
  for (const disk of spec.disks) {
    const problem = volumeProblem(disk.volume) ?? (disk.diskId === disk.volume.volumeId ? undefined : `disk ${disk.diskId} names volume ${disk.volume.volumeId}`);
    if (problem) return problem;
  }
  for (const nic of spec.nics) {
    if (!uuidPattern.test(nic.nicId)) return `NIC id ${nic.nicId} is not a UUID`;
    if (!macPattern.test(nic.mac)) return `NIC ${nic.nicId} has no valid MAC address`;
    if (nic.network && !uuidPattern.test(nic.network.id)) return `network id ${nic.network.id} is not a UUID`;
  }
  if (spec.cdrom) return isoFileProblem(spec.cdrom);
  if (spec.bootDevices && new Set(spec.bootDevices).size !== spec.bootDevices.length) return `boot devices ${spec.bootDevices.join(', ')} repeat a device`;
  return undefined;
}

/** The most seconds a console ticket may be valid: a day. */
const maxTicketSeconds = 86_400;
const ticketPasswordPattern = /^[\x21-\x7e]{1,64}$/;

function consoleProblem(command: ConsoleCommand): string | undefined {
  if (command.kind === 'describe_console') return undefined;
  if (!command.ticket) return 'set_console_ticket needs a ticket';
  if (command.ticket.protocol !== 'vnc' && command.ticket.protocol !== 'spice') return `console protocol ${String(command.ticket.protocol)} is unknown`;
  if (!ticketPasswordPattern.test(command.ticket.password)) return 'the ticket password must be 1 to 64 printable ASCII characters without spaces';
  const seconds = command.ticket.validSeconds;
  return isPositiveInteger(seconds) && seconds <= maxTicketSeconds ? undefined : `the ticket's validity of ${seconds} seconds is not between 1 and ${maxTicketSeconds}`;
}

/** A command as it may be logged: a console ticket's password left out. */
export function loggable(command: HostCommand): HostCommand {
  return isConsoleCommand(command) && command.ticket ? { ...command, ticket: { ...command.ticket, password: '(hidden)' } } : command;
}

function networkProblem(network: NetworkSpec): string | undefined {
  if (!uuidPattern.test(network.id)) return `network id ${network.id} is not a UUID`;
  if (!network.name) return `network ${network.id} has no name`;
  return undefined;
}

const networkKinds: ReadonlySet<string> = new Set(networkCommandKinds);

function isNetworkCommand(command: HostCommand): command is NetworkCommand {
  return networkKinds.has(command.kind);
}

function isStorageCommand(command: HostCommand): command is StorageCommand {
  return 'storage' in command;
}

const mediumKinds: ReadonlySet<string> = new Set(mediumCommandKinds);

/** Commands that only read: running one again is harmless, so their outcomes are not journaled, where they would push out those of commands that act. */
const readOnlyKinds: ReadonlySet<string> = new Set(['list_iso_files', 'read_medium'] satisfies CommandKind[]);

function isMediumCommand(command: HostCommand): command is MediumCommand {
  return mediumKinds.has(command.kind);
}

function isDeviceCommand(command: HostCommand): command is DeviceCommand {
  return command.kind === 'plug_device' || command.kind === 'unplug_device';
}

export function commandProblem(command: HostCommand): string | undefined {
  if (!command.commandId) return 'command id is empty';
  if (isNetworkCommand(command)) return networkProblem(command.network);
  if (isStorageCommand(command)) {
    if (command.kind === 'create_volume') {
      if (!command.volume) return 'create_volume needs a volume';
      const { volume } = command;
      if (!isPositiveInteger(volume.capacityBytes)) return `volume capacity ${volume.capacityBytes} is not a positive whole number`;
      if (volume.backing && volume.format !== 'qcow2') return 'only a qcow2 volume can have a backing volume';
      if (volume.backing && volume.copyOf) return 'a volume is either backed by another or a copy of one, not both';
      return volumeProblem(volume) ?? (volume.backing && volumeProblem(volume.backing)) ?? (volume.copyOf && volumeProblem(volume.copyOf)) ?? undefined;
    }
    if (command.kind === 'delete_volume' || command.kind === 'check_volume_unused') return command.volumeRef ? volumeProblem(command.volumeRef) : `${command.kind} needs a volume`;
    return storageProblem(command.storage);
  }
  if (!uuidPattern.test(command.vmId)) return `vm id ${command.vmId} is not a UUID`;
  if (isMediumCommand(command)) return command.medium ? isoFileProblem(command.medium) : undefined;
  if (isConsoleCommand(command)) return consoleProblem(command);
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

function notSupported(command: HostCommand): CommandOutcome {
  return { ok: false, error: 'not_supported', message: `this host's hypervisor driver cannot ${command.kind.replaceAll('_', ' ')}` };
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
      this.options.logger?.info({ command: loggable(command), outcome }, 'command executed');
      if (readOnlyKinds.has(command.kind)) return outcome;
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
    if (isNetworkCommand(command)) return this.networkOutcome(command);
    if (isStorageCommand(command)) return this.storageOutcome(command);
    if (isMediumCommand(command)) return this.mediumOutcome(command);
    if (isConsoleCommand(command)) return this.consoleOutcome(command);
    if (isDeviceCommand(command)) return this.deviceOutcome(command);
    if (isMigrationCommand(command)) return notSupported(command);
    if (command.kind === 'reboot') return this.rebootOutcome(command);
    return this.domainOutcome(command);
  }

  private async networkOutcome(command: NetworkCommand): Promise<CommandOutcome> {
    const { driver } = this.options;
    try {
      if (command.kind === 'prepare_network') await driver.prepareNetwork(command.network);
      else await driver.releaseNetwork(command.network);
      return { ok: true };
    } catch (error) {
      const failure = DriverError.from(error);
      return { ok: false, error: failure.kind, message: failure.message };
    }
  }

  private async rebootOutcome(command: DomainCommand): Promise<CommandOutcome> {
    try {
      const { domain, reboot } = await this.options.driver.reboot(command.vmId, this.options.rebootTimeoutMs);
      this.options.afterCommand?.(command.vmId, domain);
      return { ok: true, domain, reboot };
    } catch (error) {
      return this.failedDomainOutcome(command, error);
    }
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
        case 'list_iso_files':
          if (!driver.listIsoFiles) return notSupported(command);
          return { ok: true, isoFiles: await driver.listIsoFiles(command.storage) };
        case 'check_volume_unused':
          await driver.checkVolumeUnused(command.volumeRef!);
          return { ok: true };
      }
    } catch (error) {
      const failure = DriverError.from(error);
      return { ok: false, error: failure.kind, message: failure.message };
    }
  }

  private async mediumOutcome(command: MediumCommand): Promise<CommandOutcome> {
    const { driver } = this.options;
    if (!driver.changeMedium || !driver.readMedium) return notSupported(command);
    try {
      const medium = command.kind === 'change_medium' ? await driver.changeMedium(command.vmId, command.medium) : await driver.readMedium(command.vmId);
      return { ok: true, medium };
    } catch (error) {
      const failure = DriverError.from(error);
      return { ok: false, error: failure.kind, message: failure.message };
    }
  }

  private async consoleOutcome(command: ConsoleCommand): Promise<CommandOutcome> {
    const { driver } = this.options;
    try {
      if (!driver.setConsoleTicket || !driver.describeConsole) throw new DriverError('not_supported', 'the hypervisor driver has no graphics consoles');
      const console = command.kind === 'set_console_ticket' ? await driver.setConsoleTicket(command.vmId, command.ticket!) : await driver.describeConsole(command.vmId);
      return { ok: true, console };
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
      return this.failedDomainOutcome(command, error);
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

  private async failedDomainOutcome(command: DomainCommand, error: unknown): Promise<CommandOutcome> {
    const failure = DriverError.from(error);
    const facts = await this.stateAfterFailure(command.vmId);
    if (!facts.domainUnknown) this.options.afterCommand?.(command.vmId, facts.domain);
    return { ok: false, error: failure.kind, message: failure.message, ...facts };
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
    const { driver, shutdownTimeoutMs, rebootTimeoutMs } = this.options;
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
        return (await driver.reboot(uuid, rebootTimeoutMs)).domain;
      case 'reset':
        return driver.reset(uuid);
      case 'undefine':
        this.definedSpecs.delete(uuid);
        return driver.undefine(uuid);
    }
  }
}
