import type {
  CommandErrorKind,
  ConsoleFacts,
  ConsoleTicket,
  DomainStatus,
  IsoFileFacts,
  IsoFileRef,
  MediumFacts,
  MigrationProgress,
  MigrationTarget,
  NetworkSpec,
  PowerState,
  RebootFacts,
  StorageSpec,
  StorageUsage,
  VmSpec,
  VolumeFacts,
  VolumeRef,
  VolumeSpec,
} from '../../shared/model.js';

/**
 * The facts a hypervisor driver reports about the node it drives.
 */
export interface NodeFacts {
  /** The node's hostname as the hypervisor reports it. */
  hostname: string;
  /** The number of logical CPUs of the node. */
  cpuCount: number;
  /** The host CPU's model name (for example "EPYC-Rome"), or its architecture when the hypervisor names no model. */
  cpuModel: string;
  /** The domain type the node's guests run as: "kvm" (hardware virtualization), "qemu" (emulation) or "test". */
  domainType: string;
  /** The node's physical memory in bytes. */
  memoryBytes: number;
  /** The version of the libvirt library in use as "major.minor.micro", or empty when it cannot be told. */
  libvirtVersion: string;
  /** The hypervisor driver's name, for example "QEMU" or "TEST". */
  hypervisorType: string;
  /** The hypervisor's version, or empty when it cannot be told. */
  hypervisorVersion: string;
  /** The connection URI the driver uses. */
  uri: string;
}

/**
 * A failed driver operation. Every method of a HypervisorDriver reports failure
 * by rejecting with a DriverError, whose kind tells the controller why the
 * operation failed.
 */
export class DriverError extends Error {
  constructor(
    readonly kind: CommandErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'DriverError';
  }

  /** Returns the error itself when it is a DriverError, otherwise a `hypervisor_failure` carrying its message. */
  static from(error: unknown): DriverError {
    if (error instanceof DriverError) return error;
    return new DriverError('hypervisor_failure', error instanceof Error ? error.message : String(error));
  }
}

/**
 * The names of the HypervisorDriver methods that change the host: its domains
 * and its storage. Tests and diagnostics use them to address one of these
 * methods.
 */
export const driverOperations = [
  'define',
  'start',
  'shutdown',
  'destroy',
  'resume',
  'suspend',
  'reboot',
  'undefine',
  'prepareStorage',
  'releaseStorage',
  'createVolume',
  'deleteVolume',
  'checkVolumeUnused',
  'plugDevice',
  'unplugDevice',
  'reset',
  'prepareNetwork',
  'releaseNetwork',
  'migrate',
  'abortMigration',
  'prepareIncoming',
] as const;
export type DriverOperation = (typeof driverOperations)[number];

/**
 * What a lifecycle report implies about its domain: 'definition' when only the
 * domain's definition changed (it was defined or redefined), a power state
 * when the domain entered that state, and undefined when only reading the
 * domain tells (it stopped, which may also mean saved, or vanished, say).
 */
export type DomainChangeHint = PowerState | 'definition' | undefined;

/** Whether a driver can reach its hypervisor now, and when it cannot, why. */
export type Reachability = { reachable: true } | { reachable: false; reason: string };

/**
 * HypervisorDriver is the agent's only view of the hypervisor. The agent's
 * command executor and state watcher talk to it and to nothing else, so a host
 * can be driven by libvirt in production and by an in-memory fake in tests.
 *
 * Domains are addressed by UUID. For domains Drover manages, the UUID equals
 * the Drover VM id. A domain is managed when it carries Drover metadata, which
 * `define` writes.
 *
 * Power states follow shared/model.ts. The state `suspended` is the driver's
 * own: a domain is suspended when it is not running and the driver holds a
 * memory image it saved with `suspend`. If a domain with such an image is seen
 * running (someone started it from scratch), the image is stale and the driver
 * discards it.
 *
 * Operations check the domain's state before acting and reject with kind
 * `invalid_state` when the state does not allow the operation, with
 * `domain_not_found` when no domain has the UUID, with `timed_out` when an
 * operation that waits for the guest did not finish in time, with
 * `not_supported` when the hypervisor cannot do the operation at all, with
 * `in_use` when a guest still uses what the operation would take from it (a
 * volume to delete, a device to unplug), and with `hypervisor_failure` when
 * the hypervisor refused or failed the operation.
 * Operations do not "converge": starting a running domain is `invalid_state`.
 * Making repeated commands succeed is the command executor's job.
 *
 * The operations that act on a domain (define through undefine, plugDevice
 * and unplugDevice) resolve with the domain's state as the hypervisor reports
 * it right after the operation, or undefined when the domain no longer exists.
 *
 * Every method may be called concurrently with any other, including
 * `listDomains` while an operation runs.
 */
export interface HypervisorDriver {
  /** Connects to the hypervisor. It must be called once before any other method. */
  open(): Promise<void>;

  /** Disconnects from the hypervisor. Domains keep running. Calling it twice is harmless. */
  close(): Promise<void>;

  /** Reports facts about the node. */
  nodeFacts(): Promise<NodeFacts>;

  /**
   * Adds a listener that is called soon after the hypervisor reports a
   * lifecycle change (started, stopped, paused, defined, ...) of the domain with
   * the UUID, whoever made it. Drivers without events never call it. Callers
   * treat a call as a hint to look, not as state: it may come for changes
   * already seen, and changes can still go unreported, so polling listDomains
   * stays necessary. The hint says what the report implies, where it implies
   * something for certain (see DomainChangeHint).
   */
  onDomainChange?(listener: (uuid: string, hint: DomainChangeHint) => void): void;

  /**
   * Adds a listener that is called when the driver loses its connection to
   * the hypervisor (reachable false, with the reason) and when it has a
   * working connection again (reachable true). Drivers whose connection
   * cannot be lost never call it. While the hypervisor is unreachable, every
   * method but open and close rejects at once with kind
   * `hypervisor_unreachable`, and so does an operation during which the
   * connection was lost: its effect is then unknown. Such a driver
   * reconnects by itself.
   */
  onReachabilityChange?(listener: (reachability: Reachability) => void): void;

  /**
   * Lists every domain defined on the host, managed or not, with its current
   * power state. It is called several times a second, so it must stay cheap
   * with a thousand domains: implementations must not query each domain on
   * every call.
   */
  listDomains(): Promise<DomainStatus[]>;

  /** Reports one domain, or undefined when no domain has the UUID. */
  getDomain(uuid: string): Promise<DomainStatus | undefined>;

  /**
   * Creates the persistent definition of the domain for a VM, or replaces it
   * when the domain exists, in any state. The domain's UUID is spec.id and it
   * carries Drover metadata. A changed definition of a running domain takes
   * effect at its next start. The storage domains and networks the spec's
   * devices use are prepared on the host first.
   */
  define(spec: VmSpec): Promise<DomainStatus>;

  /**
   * Starts a domain that is shut off. A suspended domain is restored from its
   * saved memory instead, and the memory image is then deleted. Any other
   * state is `invalid_state`. With a spec, the domain is first defined from
   * it, as `define` does, in the same step where the hypervisor allows; the
   * definition stays even when the start then fails.
   */
  start(uuid: string, spec?: VmSpec): Promise<DomainStatus | undefined>;

  /**
   * Asks the guest of a running domain to power off and waits until the domain
   * is shut off. When the domain is still active after timeoutMs it rejects
   * with `timed_out`; the domain is then left as it is. A domain that is
   * already shutting down is only waited for. Any other state is
   * `invalid_state`.
   */
  shutdown(uuid: string, timeoutMs: number): Promise<DomainStatus | undefined>;

  /**
   * Powers off an active domain at once. For a suspended domain it discards
   * the saved memory, which leaves the domain shut off. A shut off domain is
   * `invalid_state`.
   */
  destroy(uuid: string): Promise<DomainStatus | undefined>;

  /**
   * Continues a paused domain, wakes a domain that suspended itself through
   * power management, and restores a suspended domain from its saved memory.
   * Any other state is `invalid_state`.
   */
  resume(uuid: string): Promise<DomainStatus | undefined>;

  /**
   * Saves the memory of a running or paused domain to a file in the agent's
   * data directory and stops it; the domain is then `suspended`. Any other
   * state is `invalid_state`.
   */
  suspend(uuid: string): Promise<DomainStatus | undefined>;

  /**
   * Restarts a running domain, gracefully first: asks the guest to reboot
   * and waits up to timeoutMs for the hypervisor to report that it did; when
   * it has not, resets the domain (as `reset` does). Resolves with the
   * domain's state and says which of the two happened and how long the guest
   * was waited for. An implementation that cannot ask the guest to reboot
   * shuts it down gracefully, waiting up to timeoutMs, powers it off when it
   * did not stop in time, and starts it again (that is no reset). A domain
   * that is not running is `invalid_state`.
   */
  reboot(uuid: string, timeoutMs: number): Promise<{ domain: DomainStatus | undefined; reboot: RebootFacts }>;

  /**
   * Restarts a running domain at once, without asking the guest (the reset
   * button). A domain that is not running is `invalid_state`.
   */
  reset(uuid: string): Promise<DomainStatus | undefined>;

  /**
   * Removes the definition of a domain that is shut off or suspended, together
   * with any memory image saved for it. Any other state (running, paused,
   * shutting down, crashed, pm_suspended) is `invalid_state`.
   */
  undefine(uuid: string): Promise<DomainStatus | undefined>;

  /**
   * Makes a storage domain usable on the host and reports its space: checks
   * that its directory exists (shared storage must have been mounted by the
   * host's administrator), creates its images directory, and defines and
   * starts a libvirt storage pool over it. Rejects with `storage_unreachable`
   * when the directory is missing. Repeating it is harmless.
   */
  prepareStorage(storage: StorageSpec): Promise<StorageUsage>;

  /** Stops using a storage domain on the host: its pool is stopped and forgotten, its files stay. An unknown domain is no error. */
  releaseStorage(storage: StorageSpec): Promise<void>;

  /**
   * The space of every storage domain prepared on the host and not released,
   * by this driver or by one before it on the same host. A domain whose
   * directory cannot be read (it went missing, say) is left out.
   */
  storageUsage(): Promise<StorageUsage[]>;

  /**
   * Creates a volume on its storage domain (preparing the domain first):
   * empty, as a qcow2 overlay on `backing`, or as a copy of `copyOf`. A
   * volume that exists with the same format and size is success; a volume of
   * another format or size in its place is `hypervisor_failure`, and so is a
   * `backing` or `copyOf` volume that does not exist. A preallocated volume
   * that does not fit rejects with `no_space`. On failure no part of the
   * volume is left, in libvirt or on disk.
   */
  createVolume(volume: VolumeSpec): Promise<{ volume: VolumeFacts; usage: StorageUsage }>;

  /**
   * Deletes a volume, in libvirt and on disk; a volume that does not exist is
   * success. A volume that a domain of the host refers to, as
   * checkVolumeUnused finds, is not deleted: it rejects with `in_use`. No
   * domain is defined or started through the driver, and no device plugged,
   * between that check and the deletion.
   */
  deleteVolume(volume: VolumeRef): Promise<StorageUsage>;

  /**
   * Rejects with `in_use`, naming the domains, when a domain defined on or
   * running on the host, managed or not, refers to the volume's file: as a
   * disk of its persistent definition or of the running domain, or in the
   * backing chain of a running domain's disk. A file is the volume's when it
   * has the volume's path or is the same file (a link to it, say). Changes
   * nothing.
   */
  checkVolumeUnused(volume: VolumeRef): Promise<void>;

  /**
   * Plugs the disk or NIC `deviceId` of `spec` into the running (or paused)
   * domain, then makes `spec` the domain's persistent definition. Rejects with
   * `not_supported` when the hypervisor cannot plug devices into a running
   * domain, and with `invalid_state` when the domain is neither running nor
   * paused; in both cases nothing changed.
   */
  plugDevice(spec: VmSpec, deviceId: string): Promise<DomainStatus | undefined>;

  /**
   * Makes a network exist and run on the host, as NetworkSpec describes,
   * whether or not a domain uses it. Repeating it is harmless.
   */
  prepareNetwork(network: NetworkSpec): Promise<void>;

  /**
   * Stops a network on the host and removes its definition. Rejects with
   * `invalid_state`, with nothing changed, while an active domain has an
   * interface on it. A network the host does not have is no error.
   */
  releaseNetwork(network: NetworkSpec): Promise<void>;

  /**
   * Unplugs the disk or NIC `deviceId` (which `spec` still has) from the
   * running (or paused) domain, then makes `spec` without it the domain's
   * persistent definition. Fails like plugDevice, with nothing changed. It
   * resolves only once the device has left the running domain: a guest must
   * release some devices (PCI ones) before they go, and when the guest has not
   * released the device within the driver's unplug timeout it rejects with
   * `in_use`, the device still in the running domain and in the persistent
   * definition. The request stays with the guest, which may release the
   * device later; unplugging it again then only updates the definition.
   */
  unplugDevice(spec: VmSpec, deviceId: string): Promise<DomainStatus | undefined>;

  /**
   * Lists the regular files of a storage domain's ISO directory (see
   * IsoFileRef) whose names a spec can carry, ordered by name. A missing ISO
   * directory lists nothing; a missing storage directory rejects with
   * `storage_unreachable`. Drivers without CD-ROM media lack the CD-ROM
   * methods; the agent then answers `not_supported`.
   */
  listIsoFiles?(storage: StorageSpec): Promise<IsoFileFacts[]>;

  /**
   * Puts the medium into the CD-ROM drive of the running (or paused) domain,
   * or empties the drive when there is none, and reports what the drive then
   * holds. Only the running guest sees the change: the persistent definition
   * stays. A domain that is neither running nor paused is `invalid_state`; a
   * medium whose file the host lacks, or a domain without the drive a spec
   * gives every domain, is `hypervisor_failure`; then nothing changed.
   */
  changeMedium?(uuid: string, medium: IsoFileRef | undefined): Promise<MediumFacts>;

  /** Reports what the CD-ROM drive of the running (or paused) domain holds; any other state is `invalid_state`. */
  readMedium?(uuid: string): Promise<MediumFacts>;

  /**
   * Sets the password of the graphics console of the running (or paused)
   * domain to `ticket.password`, valid for `ticket.validSeconds` from now by
   * the host's clock, on the running domain only (its persistent definition
   * keeps a password nobody knows), and describes the console. A domain that
   * is neither running nor paused, or whose running console is not of
   * `ticket.protocol`, is `invalid_state`; one that has no graphics console is
   * `not_supported`. Drivers whose domains have no consoles lack
   * this method.
   */
  setConsoleTicket?(uuid: string, ticket: ConsoleTicket): Promise<ConsoleFacts>;

  /** Describes the graphics console of the running (or paused) domain, failing as setConsoleTicket does; it changes nothing. */
  describeConsole?(uuid: string): Promise<ConsoleFacts>;

  /**
   * Migrates the running domain live to the hypervisor at
   * `target.destinationUri`, peer to peer: this host's hypervisor drives the
   * migration with the destination's, QEMU's stream goes to
   * `target.destinationAddress`, the destination keeps the domain's
   * persistent definition, and this host undefines the domain once it runs
   * there. With `target.sharedStorage` no disk is copied and the hypervisor
   * does not refuse disks it cannot tell are shared. First it writes
   * `target.migrationId` into the running domain's Drover metadata (see
   * migrationIdOf), and into its persistent definition, which both travel
   * with it. While the migration runs, the destination holds a paused copy
   * of the domain that carries the migration id. Resolves once the
   * hypervisor reports the migration complete, with the domain's state here
   * afterwards (undefined: it left). A domain that is not running, or
   * carries no Drover metadata, is `invalid_state`; a migration the
   * hypervisor fails or that abortMigration aborted, or one to a destination
   * that cannot be reached, rejects with `hypervisor_failure`, the domain
   * still running here. The migration runs in the hypervisor: closing the
   * driver does not stop it.
   * Drivers of hypervisors that cannot migrate lack the migration methods;
   * the agent then answers `not_supported`.
   */
  migrate?(uuid: string, target: MigrationTarget): Promise<DomainStatus | undefined>;

  /**
   * Reports the statistics of the migration job of the domain that runs on
   * this host (as migrate's source), or undefined when no migration job of
   * the domain runs here (a domain this host receives by migration has
   * none), or the domain is not here.
   */
  migrationJob?(uuid: string): Promise<MigrationProgress | undefined>;

  /**
   * Aborts the migration job of the domain on this host; the domain keeps
   * running here. Rejects with `invalid_state` when no migration job of the
   * domain runs, or the hypervisor will not abort it any more (it is
   * switching over), and with `domain_not_found` when the domain is gone:
   * libvirt answers an abort that comes during the switch-over only once
   * the migration completed, with `domain_not_found`, the domain having
   * left.
   */
  abortMigration?(uuid: string): Promise<void>;

  /**
   * The migration id written in the domain's Drover metadata by migrate
   * (on the source, or the destination it moved to), or undefined when it
   * has none; `domain_not_found` when there is no such domain.
   */
  migrationIdOf?(uuid: string): Promise<string | undefined>;

  /**
   * Makes the host ready to receive the domain of `spec` by migration: the
   * storage domains and networks its devices use are prepared, as `define`
   * prepares them; nothing is defined. Repeating it is harmless.
   */
  prepareIncoming?(spec: VmSpec): Promise<void>;
}
