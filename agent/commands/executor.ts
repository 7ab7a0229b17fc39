import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
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
  type MigrationCommand,
  type MigrationProgress,
  type MigrationTarget,
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
  /** Receives each sample of the migration job of an executing `migrate` command (about one per migrationPollMs). */
  onMigrationProgress?: (commandId: string, vmId: string, progress: MigrationProgress) => void;
  /** How often an executing `migrate` samples its migration job; 1000 ms unless given. */
  migrationPollMs?: number;
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

const maxMigrationUriLength = 1024;
const hostNamePattern = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function migrationUriProblem(uri: string): string | undefined {
  if (uri.length === 0 || uri.length > maxMigrationUriLength) return `destination URI is empty or longer than ${maxMigrationUriLength} characters`;
  if (/[\s\x00-\x1f\x7f]/.test(uri)) return `destination URI ${JSON.stringify(uri)} contains white space or control characters`;
  if (!/^qemu[a-z0-9+.-]*:\/\//i.test(uri) || !URL.canParse(uri)) return `destination URI ${uri} is not a libvirt URI of a QEMU hypervisor`;
  return undefined;
}

function isHostAddress(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  return isIP(bare) !== 0 || (bare === address && hostNamePattern.test(address));
}

function migrationTargetProblem(kind: string, target: MigrationTarget | undefined): string | undefined {
  if (!target) return `${kind} needs a migration`;
  if (!uuidPattern.test(target.migrationId)) return `migration id ${target.migrationId} is not a UUID`;
  if (kind === 'discard_incoming') return undefined;
  const uriProblem = migrationUriProblem(target.destinationUri);
  if (uriProblem) return uriProblem;
  if (!isHostAddress(target.destinationAddress)) return `destination address ${JSON.stringify(target.destinationAddress)} is not a host name or IP address`;
  if (!isPositiveInteger(target.stallTimeoutMs)) return `stall timeout ${target.stallTimeoutMs} ms is not a positive whole number`;
  if (!isPositiveInteger(target.deadlineMs)) return `deadline ${target.deadlineMs} ms is not a positive whole number`;
  if (!Number.isSafeInteger(target.bandwidthMiBPerSecond) || target.bandwidthMiBPerSecond < 0) return `bandwidth cap ${target.bandwidthMiBPerSecond} MiB/s is not a whole number of at least 0`;
  return undefined;
}

function migrationProblem(command: MigrationCommand): string | undefined {
  switch (command.kind) {
    case 'prepare_incoming':
      return command.spec ? specProblem(command.spec, command.vmId) : 'prepare_incoming needs a spec';
    case 'migrate':
    case 'discard_incoming':
      return migrationTargetProblem(command.kind, command.migration);
    case 'abort_migration':
    case 'inspect_domain':
      return undefined;
  }
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
const readOnlyKinds: ReadonlySet<string> = new Set(['list_iso_files', 'read_medium', 'inspect_domain'] satisfies CommandKind[]);

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
  if (isMigrationCommand(command)) return migrationProblem(command);
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
    if (isMigrationCommand(command)) return this.migrationOutcome(command);
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

  private async migrationOutcome(command: MigrationCommand): Promise<CommandOutcome> {
    try {
      switch (command.kind) {
        case 'prepare_incoming':
          await this.migrationMethod(command, 'prepareIncoming')(command.spec!);
          return { ok: true };
        case 'migrate':
          return await this.migrateOutcome(command, command.migration!);
        case 'abort_migration':
          await this.migrationMethod(command, 'abortMigration')(command.vmId);
          return { ok: true };
        case 'inspect_domain':
          return await this.inspectOutcome(command);
        case 'discard_incoming':
          return await this.discardOutcome(command, command.migration!);
      }
    } catch (error) {
      const failure = DriverError.from(error);
      return { ok: false, error: failure.kind, message: failure.message };
    }
  }

  /** One of the driver's migration methods, bound to it; a driver without it fails the command with `not_supported`. */
  private migrationMethod<Name extends 'migrate' | 'migrationJob' | 'abortMigration' | 'migrationIdOf' | 'prepareIncoming'>(command: MigrationCommand, name: Name): NonNullable<HypervisorDriver[Name]> {
    const method = this.options.driver[name];
    if (!method) throw new DriverError('not_supported', `this host's hypervisor driver cannot ${command.kind.replaceAll('_', ' ')}`);
    return method.bind(this.options.driver) as NonNullable<HypervisorDriver[Name]>;
  }

  /**
   * Migrates the domain, or waits for the migration job of it that already
   * runs, sampling the job meanwhile: a job whose remaining data has not
   * shrunk below its lowest for stallTimeoutMs, or that runs past
   * deadlineMs, is aborted, and the command then fails with `timed_out`.
   */
  private async migrateOutcome(command: MigrationCommand, target: MigrationTarget): Promise<CommandOutcome> {
    const migrate = this.migrationMethod(command, 'migrate');
    const migrationJob = this.migrationMethod(command, 'migrationJob');
    const abortMigration = this.migrationMethod(command, 'abortMigration');
    const uuid = command.vmId;
    const startedAt = Date.now();
    const running = await migrationJob(uuid);
    let ended = false;
    const migration = running
      ? undefined
      : migrate(uuid, target).then(
          (domain) => ({ ok: true as const, domain }),
          (error: unknown) => ({ ok: false as const, error: DriverError.from(error) }),
        );
    void migration?.finally(() => (ended = true));
    let lowestRemaining = Infinity;
    let progressAt = startedAt;
    let sampling: Promise<void> | undefined;
    let timedOut: string | undefined;
    let abortAttempted = false;
    const take = (progress: MigrationProgress | undefined) => {
      if (!progress) {
        if (!migration) ended = true;
        return;
      }
      if (ended) return;
      this.options.onMigrationProgress?.(command.commandId, uuid, progress);
      if (progress.dataTotalBytes > 0 && progress.dataRemainingBytes < lowestRemaining) {
        lowestRemaining = progress.dataRemainingBytes;
        progressAt = Date.now();
      }
    };
    if (running) take(running);
    const pollMs = this.options.migrationPollMs ?? 1000;
    while (!ended) {
      sampling ??= migrationJob(uuid).then(take, () => undefined).finally(() => (sampling = undefined));
      await (migration ? Promise.race([migration, sleep(pollMs)]) : sleep(pollMs));
      if (ended || abortAttempted) continue;
      const now = Date.now();
      if (now - progressAt >= target.stallTimeoutMs) timedOut = `the migration made no progress for ${target.stallTimeoutMs} ms`;
      else if (now - startedAt >= target.deadlineMs) timedOut = `the migration had not completed after ${target.deadlineMs} ms`;
      if (!timedOut) continue;
      abortAttempted = true;
      try {
        await abortMigration(uuid);
      } catch (error) {
        this.options.logger?.warn({ err: error, vmId: uuid, reason: timedOut }, 'could not abort a migration; waiting for it to end');
        timedOut = undefined;
      }
    }
    const result = migration ? await migration : undefined;
    if (result?.ok) {
      this.options.afterCommand?.(uuid, result.domain);
      return { ok: true, domain: result.domain };
    }
    const facts = await this.stateAfterFailure(uuid);
    if (!facts.domainUnknown) this.options.afterCommand?.(uuid, facts.domain);
    if (timedOut) return { ok: false, error: 'timed_out', message: `${timedOut}; the agent aborted it, and the domain stays on this host`, ...facts };
    if (result) return { ok: false, error: result.error.kind, message: result.error.message, ...facts };
    if (!facts.domainUnknown && facts.domain === undefined) return { ok: true };
    return { ok: false, error: 'hypervisor_failure', message: 'the migration job that ran when the agent received the command ended with the domain still on this host', ...facts };
  }

  private async inspectOutcome(command: MigrationCommand): Promise<CommandOutcome> {
    const uuid = command.vmId;
    const migrationJob = this.migrationMethod(command, 'migrationJob');
    const domain = await this.options.driver.getDomain(uuid);
    if (!domain) return { ok: true };
    const marked = await this.migrationMark(command);
    if (marked.gone) return { ok: true };
    const { migrationId } = marked;
    const job = await migrationJob(uuid);
    return { ok: true, domain, migrationId, migrationJobActive: job !== undefined };
  }

  /** The migration id in the domain's metadata, or that the domain is gone. */
  private async migrationMark(command: MigrationCommand): Promise<{ gone: true } | { gone: false; migrationId: string | undefined }> {
    try {
      return { gone: false, migrationId: await this.migrationMethod(command, 'migrationIdOf')(command.vmId) };
    } catch (error) {
      if (DriverError.from(error).kind === 'domain_not_found') return { gone: true };
      throw error;
    }
  }

  /** Destroys and undefines the copy of the domain a failed migration left here, only when it is of this migration and does not run. */
  private async discardOutcome(command: MigrationCommand, target: MigrationTarget): Promise<CommandOutcome> {
    const { driver } = this.options;
    const uuid = command.vmId;
    const marked = await this.migrationMark(command);
    if (marked.gone) return { ok: true };
    const { migrationId } = marked;
    const domain = await driver.getDomain(uuid);
    if (!domain) return { ok: true };
    if (migrationId !== target.migrationId) {
      const carried = migrationId ? `migration ${migrationId}` : 'no migration';
      return { ok: false, error: 'invalid_state', message: `domain ${domain.name} is of ${carried}, not of migration ${target.migrationId}; it is left as it is`, domain };
    }
    if (domain.state !== 'paused' && domain.state !== 'shutoff') {
      return { ok: false, error: 'invalid_state', message: `domain ${domain.name} is ${domain.state}, so it is not a copy a failed migration left; it is left as it is`, domain };
    }
    try {
      const stopped = domain.state === 'paused' ? await driver.destroy(uuid) : domain;
      const after = stopped ? await driver.undefine(uuid) : undefined;
      this.options.afterCommand?.(uuid, after);
      return { ok: true, domain: after };
    } catch (error) {
      const failure = DriverError.from(error);
      const facts = await this.stateAfterFailure(uuid);
      if (!facts.domainUnknown) this.options.afterCommand?.(uuid, facts.domain);
      return { ok: false, error: failure.kind, message: failure.message, ...facts };
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
