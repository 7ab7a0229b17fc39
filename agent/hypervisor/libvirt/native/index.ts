import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Drover's own libvirt binding: a native addon (agent/hypervisor/libvirt/native/src,
 * built by `npm run build:native`) that holds one libvirt connection and makes
 * every libvirt call the agent needs on it. Each method below is one job on
 * Node's worker thread pool (the migration calls on threads of their own, see
 * migrateDomain): the libvirt calls it lists run there, one after the
 * other, and the returned promise settles on the main thread. Methods may be
 * called concurrently; libvirt connections are thread-safe.
 *
 * Domains are addressed by UUID string, storage pools and networks by name, and
 * volumes by pool name and volume name; handles are looked up and freed inside
 * each job, so nothing native is held between calls.
 *
 * A failed libvirt call rejects with a LibvirtError, which carries libvirt's
 * error code (the VIR_ERR_* numbers in ErrorCode), the libvirt error domain
 * (which part of libvirt raised it) and libvirt's message.
 */

/** The part of a failed libvirt call's error that Drover uses; see isLibvirtError. */
export interface LibvirtError extends Error {
  /** libvirt's virErrorNumber, for example ErrorCode.NO_DOMAIN. */
  code: number;
  /** libvirt's virErrorDomain: the libvirt module that raised the error. */
  libvirtDomain: number;
}

/** The libvirt error codes (virErrorNumber, libvirt/virterror.h) Drover looks at. */
export const ErrorCode = {
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  XML_DETAIL: 35,
  NO_DOMAIN: 42,
  NO_NETWORK: 43,
  NO_STORAGE_POOL: 49,
  NO_STORAGE_VOL: 50,
  OPERATION_INVALID: 55,
  OPERATION_TIMEOUT: 68,
  NO_DOMAIN_METADATA: 80,
  OPERATION_UNSUPPORTED: 84,
  OPERATION_ABORTED: 78,
} as const;

/** Whether an error is a LibvirtError, that is, came from a failed libvirt call. */
export function isLibvirtError(error: unknown): error is LibvirtError {
  return error instanceof Error && typeof (error as Partial<LibvirtError>).code === 'number' && typeof (error as Partial<LibvirtError>).libvirtDomain === 'number';
}

/** libvirt's domain states (virDomainState). */
export const DomainState = {
  NOSTATE: 0,
  RUNNING: 1,
  BLOCKED: 2,
  PAUSED: 3,
  SHUTDOWN: 4,
  SHUTOFF: 5,
  CRASHED: 6,
  PMSUSPENDED: 7,
} as const;

/** libvirt's domain lifecycle event types (virDomainEventType), as in DomainLifecycleEvent.event. */
export const DomainEvent = {
  DEFINED: 0,
  UNDEFINED: 1,
  STARTED: 2,
  SUSPENDED: 3,
  RESUMED: 4,
  STOPPED: 5,
  SHUTDOWN: 6,
  PMSUSPENDED: 7,
  CRASHED: 8,
} as const;

/** The host as libvirt's virNodeGetInfo describes it. */
export interface NodeInfo {
  /** The CPU model, for example "x86_64". */
  model: string;
  memoryKiB: number;
  /** The number of active logical CPUs. */
  cpus: number;
  /** The CPU frequency in MHz. */
  mhz: number;
  /** NUMA nodes, CPU sockets per node, cores per socket, threads per core. */
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

/** A domain as listed: what libvirt holds on the domain handle plus its state. */
export interface DomainInfo {
  uuid: string;
  name: string;
  /** The hypervisor's id of a running domain, -1 when the domain is inactive. */
  id: number;
  /** The domain's state, a DomainState value. */
  state: number;
}

/**
 * The operations domainOperation performs, each one libvirt call: create
 * (virDomainCreate, start), shutdown (ask the guest to power off), destroy (power
 * off at once), suspend (stop the CPUs, keeping the memory), resume (continue a
 * suspended domain), reboot (virDomainReboot), undefine (remove the persistent
 * definition, with a UEFI guest's variable store) and pmWakeup (wake a guest that suspended itself through power
 * management).
 */
export type DomainOperation = 'create' | 'shutdown' | 'destroy' | 'suspend' | 'resume' | 'reboot' | 'undefine' | 'pmWakeup' | 'reset';

/** Which definitions of a domain a device change applies to; neither means libvirt's "current" (live when running, else the persistent one). */
export interface DeviceImpact {
  /** The running domain. */
  live?: boolean;
  /** The persistent definition. */
  config?: boolean;
}

export interface StoragePoolSummary {
  name: string;
  uuid: string;
  active: boolean;
  persistent: boolean;
}

/** A storage pool's state (virStoragePoolState) and sizes in bytes. */
export interface StoragePoolInfo {
  state: number;
  capacity: number;
  allocation: number;
  available: number;
}

export interface VolumeSummary {
  name: string;
  /** The volume's path on the host, as a domain's disk refers to it. */
  path: string;
  /** libvirt's unique key of the volume (for file volumes, the path). */
  key: string;
}

/** A volume's type (virStorageVolType) and sizes in bytes. */
export interface VolumeInfo {
  type: number;
  capacity: number;
  allocation: number;
}

export interface NetworkSummary {
  name: string;
  uuid: string;
  active: boolean;
  persistent: boolean;
  /** The host bridge the network uses, '' when it has none. */
  bridge: string;
}

/** The statistics of a domain's outgoing migration job (virDomainGetJobStats): bytes of data (memory, and disks where copied) and milliseconds. */
export interface MigrationJobStats {
  dataTotal: number;
  dataProcessed: number;
  dataRemaining: number;
  timeElapsed: number;
}

/** How migrateDomain moves a domain. */
export interface MigrationRequest {
  /** The libvirt URI the source's libvirtd opens to reach the destination's (peer to peer). */
  destinationUri: string;
  /** Where QEMU's migration stream goes (VIR_MIGRATE_PARAM_URI), for example tcp://192.0.2.2 or tcp://[2001:db8::2]. */
  streamUri: string;
  /** A cap on the stream in MiB/s (VIR_MIGRATE_PARAM_BANDWIDTH); 0 for none. */
  bandwidthMiBPerSecond: number;
  /** Adds VIR_MIGRATE_UNSAFE: libvirt does not refuse disks it cannot tell are on shared storage or cached safely. */
  unsafe: boolean;
}

/** A domain lifecycle event (libvirt's VIR_DOMAIN_EVENT_ID_LIFECYCLE). */
export interface DomainLifecycleEvent {
  uuid: string;
  name: string;
  /** What happened, a DomainEvent value. */
  event: number;
  /** Why, a value of the event type's detail enum (for example virDomainEventStoppedDetailType). */
  detail: number;
}

interface NativeConnection {
  close(): Promise<void>;
  nodeInfo(): Promise<NodeInfo>;
  hostname(): Promise<string>;
  hypervisorType(): Promise<string>;
  hypervisorVersion(): Promise<number>;
  libraryVersion(): Promise<number>;
  watchLifecycle(listener: (event: DomainLifecycleEvent) => void): Promise<void>;
  watchReboot(listener: (uuid: string) => void): Promise<void>;
  capabilities(): Promise<string>;
  isAlive(): boolean;
  setKeepAlive(intervalSeconds: number, count: number): Promise<void>;
  listDomains(): Promise<DomainInfo[]>;
  domainStatus(uuid: string): Promise<DomainInfo | null>;
  domainXml(uuid: string, inactive: boolean): Promise<string>;
  domainMetadata(uuid: string, namespaceUri: string): Promise<string | null>;
  defineDomain(xml: string, thenCreate: boolean): Promise<DomainInfo>;
  domainOperation(uuid: string, operation: DomainOperation, requiredStates: number[]): Promise<DomainInfo | null>;
  saveDomain(uuid: string, file: string): Promise<DomainInfo | null>;
  restoreDomain(file: string): Promise<void>;
  attachDevice(uuid: string, xml: string, live: boolean, config: boolean): Promise<void>;
  detachDevice(uuid: string, xml: string, live: boolean, config: boolean): Promise<void>;
  updateDevice(uuid: string, xml: string, live: boolean, config: boolean): Promise<void>;
  migrateDomain(uuid: string, destinationUri: string, streamUri: string, bandwidthMiBPerSecond: number, unsafe: boolean): Promise<void>;
  migrationJob(uuid: string): Promise<MigrationJobStats | null>;
  abortMigration(uuid: string): Promise<void>;
  setDomainMetadata(uuid: string, xml: string, key: string, namespaceUri: string, live: boolean, config: boolean): Promise<void>;
  listStoragePools(): Promise<StoragePoolSummary[]>;
  storagePoolInfo(name: string): Promise<StoragePoolInfo | null>;
  storagePoolXml(name: string): Promise<string>;
  defineStoragePool(xml: string): Promise<StoragePoolSummary>;
  buildStoragePool(name: string): Promise<void>;
  startStoragePool(name: string): Promise<void>;
  stopStoragePool(name: string): Promise<void>;
  undefineStoragePool(name: string): Promise<void>;
  refreshStoragePool(name: string): Promise<void>;
  listVolumes(pool: string): Promise<VolumeSummary[]>;
  createVolume(pool: string, xml: string): Promise<VolumeSummary>;
  cloneVolume(pool: string, xml: string, sourcePool: string, sourceName: string): Promise<VolumeSummary>;
  volumeInfo(pool: string, name: string): Promise<VolumeInfo | null>;
  volumeXml(pool: string, name: string): Promise<string>;
  deleteVolume(pool: string, name: string): Promise<void>;
  listNetworks(): Promise<NetworkSummary[]>;
  networkXml(name: string): Promise<string>;
  defineNetwork(xml: string): Promise<NetworkSummary>;
  startNetwork(name: string): Promise<void>;
  stopNetwork(name: string): Promise<void>;
  undefineNetwork(name: string): Promise<void>;
}

interface NativeAddon {
  open(uri: string): Promise<NativeConnection>;
}

const addonPath = path.join('agent', 'hypervisor', 'libvirt', 'native', 'build', 'Release', 'drover_libvirt.node');
let addon: NativeAddon | undefined;

/**
 * Loads the compiled addon, which stays in the source tree: from this module's
 * folder (dist/agent/hypervisor/libvirt/native once compiled) the nearest
 * ancestor holding agent/hypervisor/libvirt/native/build/Release/drover_libvirt.node
 * is the project root.
 */
function loadAddon(): NativeAddon {
  if (addon) return addon;
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let directory = here; ; directory = path.dirname(directory)) {
    const candidate = path.join(directory, addonPath);
    if (existsSync(candidate)) return (addon = createRequire(import.meta.url)(candidate) as NativeAddon);
    if (path.dirname(directory) === directory) throw new Error(`the libvirt addon ${addonPath} is not built above ${here}; run npm run build:native`);
  }
}

function formatVersion(version: number): string {
  return `${Math.floor(version / 1_000_000)}.${Math.floor(version / 1000) % 1000}.${version % 1000}`;
}

/**
 * One libvirt connection. Create it with the connection URI, call open() once,
 * and close() when done: a connection that is dropped without close() stays
 * open until the process exits. Every other method rejects while the connection
 * is not open.
 *
 * Note that libvirt's test driver keeps a separate host per connection for
 * file-based URIs (test:///path/host.xml); only test:///default is shared by
 * every connection of a process.
 */
export class LibvirtConnection {
  private native?: NativeConnection;
  private state: 'new' | 'opening' | 'open' | 'closed' = 'new';
  private listener?: (event: DomainLifecycleEvent) => void;
  private watching?: Promise<void>;
  private rebootListener?: (uuid: string) => void;
  private watchingReboots?: Promise<void>;

  constructor(readonly uri: string) {}

  /** Opens the connection (virConnectOpen). A connection is opened once; calling open again rejects. */
  async open(): Promise<void> {
    if (this.state !== 'new') throw new Error(`the libvirt connection to ${this.uri} was already opened`);
    this.state = 'opening';
    const native = await loadAddon().open(this.uri);
    if (this.state !== 'opening') {
      await native.close();
      throw new Error(`the libvirt connection to ${this.uri} was closed while it opened`);
    }
    this.native = native;
    this.state = 'open';
  }

  /**
   * Closes the connection, after deregistering its event listener (also one
   * whose registration is still under way). Jobs still running keep the
   * connection alive until they finish, and complete normally. Closing a closed
   * or never opened connection does nothing; a closed connection cannot be
   * opened again.
   */
  async close(): Promise<void> {
    const native = this.native;
    this.native = undefined;
    this.state = 'closed';
    await native?.close();
  }

  /** Describes the host (virNodeGetInfo). */
  nodeInfo(): Promise<NodeInfo> {
    return this.call((native) => native.nodeInfo());
  }

  /** The host's name as the hypervisor reports it (virConnectGetHostname). */
  hostname(): Promise<string> {
    return this.call((native) => native.hostname());
  }

  /** The host's capabilities document (virConnectGetCapabilities): its CPU and the guest types (domain types per architecture) it offers. */
  capabilities(): Promise<string> {
    return this.call((native) => native.capabilities());
  }

  /**
   * Whether the connection is open and still alive (virConnectIsAlive): false
   * once the daemon went away or keepalive gave up on it. It answers without
   * calling the daemon.
   */
  isAlive(): boolean {
    return this.native?.isAlive() ?? false;
  }

  /**
   * Makes libvirt probe the daemon every intervalSeconds and close the
   * connection after count unanswered probes (virConnectSetKeepAlive), so a
   * daemon that hangs or vanishes is noticed. Drivers that run in the
   * client's process (the test driver) reject with ErrorCode.NO_SUPPORT.
   */
  setKeepAlive(intervalSeconds: number, count: number): Promise<void> {
    return this.call((native) => native.setKeepAlive(intervalSeconds, count));
  }

  /** The hypervisor driver's name, for example "QEMU" or "TEST" (virConnectGetType). */
  hypervisorType(): Promise<string> {
    return this.call((native) => native.hypervisorType());
  }

  /** The hypervisor's version as "major.minor.micro" (virConnectGetVersion), or '' when the driver cannot tell. */
  async hypervisorVersion(): Promise<string> {
    const version = await this.call((native) => native.hypervisorVersion());
    return version > 0 ? formatVersion(version) : '';
  }

  /** The version of the libvirt library that serves the connection, as "major.minor.micro" (virConnectGetLibVersion). */
  async libraryVersion(): Promise<string> {
    return formatVersion(await this.call((native) => native.libraryVersion()));
  }

  /**
   * Lists every domain with its state, in one job whose cost does not grow with
   * the number of domains in calls to the hypervisor: four virConnectListAllDomains
   * calls, one per state filter (running, paused, shut off, other), plus one
   * virDomainGetState for each domain in one of the other states (blocked,
   * shutting down, crashed, suspended by power management). A domain that
   * changes state during the listing can be missing from it.
   */
  listDomains(): Promise<DomainInfo[]> {
    return this.call((native) => native.listDomains());
  }

  /** Reports one domain (virDomainLookupByUUIDString, virDomainGetState), or null when no domain has the UUID. */
  domainStatus(uuid: string): Promise<DomainInfo | null> {
    return this.call((native) => native.domainStatus(uuid));
  }

  /** The domain's XML description (virDomainGetXMLDesc); with inactive, that of its persistent definition. */
  domainXml(uuid: string, options: { inactive?: boolean } = {}): Promise<string> {
    return this.call((native) => native.domainXml(uuid, options.inactive ?? false));
  }

  /**
   * The element in the namespace namespaceUri of the metadata of the domain's
   * current definition (virDomainGetMetadata, VIR_DOMAIN_METADATA_ELEMENT,
   * VIR_DOMAIN_AFFECT_CURRENT): the live one while the domain runs, so a
   * transient domain (one that arrived by migration, say) answers too; the
   * persistent one otherwise. Null when it has none.
   */
  domainMetadata(uuid: string, namespaceUri: string): Promise<string | null> {
    return this.call((native) => native.domainMetadata(uuid, namespaceUri));
  }

  /**
   * Defines a persistent domain, or replaces the definition of the domain with
   * the same UUID (virDomainDefineXML); resolves with its status. With
   * `thenCreate`, the same job then starts the domain (virDomainCreate) when it
   * is shut off, and otherwise rejects with ErrorCode.OPERATION_INVALID as
   * domainOperation does; the definition stays either way.
   */
  defineDomain(xml: string, options: { thenCreate?: boolean } = {}): Promise<DomainInfo> {
    return this.call((native) => native.defineDomain(xml, options.thenCreate ?? false));
  }

  /**
   * Looks the domain up, performs the operation and resolves with the domain's
   * status right after it, or null when the domain no longer exists (after
   * undefining an inactive domain, or destroying a transient one). With
   * requiredStates, the operation is performed only when the domain's state is
   * one of them, and otherwise rejects with ErrorCode.OPERATION_INVALID and a
   * message naming the state; this makes "not in this state" failures uniform
   * across hypervisors, some of which accept, say, pausing a paused domain.
   */
  domainOperation(uuid: string, operation: DomainOperation, options: { requiredStates?: readonly number[] } = {}): Promise<DomainInfo | null> {
    return this.call((native) => native.domainOperation(uuid, operation, [...(options.requiredStates ?? [])]));
  }

  /** Saves the memory of an active domain to a file on the host, which stops it (virDomainSave); resolves with its status after. */
  saveDomain(uuid: string, file: string): Promise<DomainInfo | null> {
    return this.call((native) => native.saveDomain(uuid, file));
  }

  /** Starts a domain again from a file saveDomain wrote (virDomainRestore). The file is left in place. */
  restoreDomain(file: string): Promise<void> {
    return this.call((native) => native.restoreDomain(file));
  }

  /** Adds a device, given as its XML element, to a domain (virDomainAttachDeviceFlags). */
  attachDevice(uuid: string, xml: string, impact: DeviceImpact = {}): Promise<void> {
    return this.call((native) => native.attachDevice(uuid, xml, impact.live ?? false, impact.config ?? false));
  }

  /** Removes the device described by its XML element from a domain (virDomainDetachDeviceFlags). */
  detachDevice(uuid: string, xml: string, impact: DeviceImpact = {}): Promise<void> {
    return this.call((native) => native.detachDevice(uuid, xml, impact.live ?? false, impact.config ?? false));
  }

  /** Changes a device of a domain in place, given as its XML element (virDomainUpdateDeviceFlags): a CD-ROM's medium, a console's password. */
  updateDevice(uuid: string, xml: string, impact: DeviceImpact = {}): Promise<void> {
    return this.call((native) => native.updateDevice(uuid, xml, impact.live ?? false, impact.config ?? false));
  }

  /**
   * Migrates the running domain live, peer to peer (virDomainMigrateToURI3
   * with VIR_MIGRATE_LIVE, PEER2PEER, PERSIST_DEST, UNDEFINE_SOURCE and
   * ABORT_ON_ERROR, plus UNSAFE on request): this connection's daemon opens
   * request.destinationUri itself and drives the migration with the
   * destination's daemon; the destination keeps a persistent definition and
   * the source's is removed once the domain runs there. Unlike the other
   * methods, the call runs on a thread of its own for as long as the
   * migration lasts, and so do migrationJob and abortMigration (which can
   * wait seconds for QEMU while a migration runs), so that migrations do not
   * take the worker threads of Node's pool from the other calls. A migration
   * aborted with abortMigration rejects with ErrorCode.OPERATION_ABORTED.
   */
  migrateDomain(uuid: string, request: MigrationRequest): Promise<void> {
    return this.call((native) => native.migrateDomain(uuid, request.destinationUri, request.streamUri, request.bandwidthMiBPerSecond, request.unsafe));
  }

  /**
   * The statistics of the domain's job (virDomainGetJobStats) when it is an
   * outgoing migration (VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT); null when the
   * domain runs no job, another job (an incoming migration, a save, ...), or
   * does not exist.
   */
  migrationJob(uuid: string): Promise<MigrationJobStats | null> {
    return this.call((native) => native.migrationJob(uuid));
  }

  /**
   * Aborts the domain's outgoing migration job (virDomainAbortJob) in one job
   * with a check that the domain runs one: any other job, or none, rejects
   * with ErrorCode.OPERATION_INVALID and is left alone.
   */
  abortMigration(uuid: string): Promise<void> {
    return this.call((native) => native.abortMigration(uuid));
  }

  /**
   * Replaces the element of the namespace namespaceUri in the domain's
   * metadata, written with the prefix `key` (virDomainSetMetadata,
   * VIR_DOMAIN_METADATA_ELEMENT), in the running domain (live) and/or its
   * persistent definition (config).
   */
  setDomainMetadata(uuid: string, xml: string, key: string, namespaceUri: string, impact: DeviceImpact): Promise<void> {
    return this.call((native) => native.setDomainMetadata(uuid, xml, key, namespaceUri, impact.live ?? false, impact.config ?? false));
  }

  /** Lists every storage pool, active or not. */
  listStoragePools(): Promise<StoragePoolSummary[]> {
    return this.call((native) => native.listStoragePools());
  }

  /** Reports a pool's state and sizes (virStoragePoolGetInfo), or null when no pool has the name. */
  storagePoolInfo(name: string): Promise<StoragePoolInfo | null> {
    return this.call((native) => native.storagePoolInfo(name));
  }

  /** The pool's XML description. */
  storagePoolXml(name: string): Promise<string> {
    return this.call((native) => native.storagePoolXml(name));
  }

  /** Defines a persistent, inactive storage pool (virStoragePoolDefineXML). */
  defineStoragePool(xml: string): Promise<StoragePoolSummary> {
    return this.call((native) => native.defineStoragePool(xml));
  }

  /** Prepares an inactive pool's underlying storage, for example creates its directory (virStoragePoolBuild). */
  buildStoragePool(name: string): Promise<void> {
    return this.call((native) => native.buildStoragePool(name));
  }

  /** Activates a pool (virStoragePoolCreate); its volumes become usable. */
  startStoragePool(name: string): Promise<void> {
    return this.call((native) => native.startStoragePool(name));
  }

  /** Deactivates a pool (virStoragePoolDestroy), leaving its storage and volumes in place. */
  stopStoragePool(name: string): Promise<void> {
    return this.call((native) => native.stopStoragePool(name));
  }

  /** Removes the definition of an inactive pool (virStoragePoolUndefine). */
  undefineStoragePool(name: string): Promise<void> {
    return this.call((native) => native.undefineStoragePool(name));
  }

  /** Rescans an active pool's storage for volumes and sizes (virStoragePoolRefresh). */
  refreshStoragePool(name: string): Promise<void> {
    return this.call((native) => native.refreshStoragePool(name));
  }

  /** Lists the volumes of an active pool. */
  listVolumes(pool: string): Promise<VolumeSummary[]> {
    return this.call((native) => native.listVolumes(pool));
  }

  /** Creates a volume in an active pool from its XML description (virStorageVolCreateXML). */
  createVolume(pool: string, xml: string): Promise<VolumeSummary> {
    return this.call((native) => native.createVolume(pool, xml));
  }

  /**
   * Creates a volume in pool, described by xml, filled with the contents of the
   * volume sourceName of sourcePool (virStorageVolCreateXMLFrom); the format may
   * differ from the source's.
   */
  cloneVolume(pool: string, xml: string, sourcePool: string, sourceName: string): Promise<VolumeSummary> {
    return this.call((native) => native.cloneVolume(pool, xml, sourcePool, sourceName));
  }

  /** Reports a volume's type and sizes, or null when the pool has no volume of that name. A missing pool rejects. */
  volumeInfo(pool: string, name: string): Promise<VolumeInfo | null> {
    return this.call((native) => native.volumeInfo(pool, name));
  }

  /** The volume's XML description. */
  volumeXml(pool: string, name: string): Promise<string> {
    return this.call((native) => native.volumeXml(pool, name));
  }

  /** Deletes a volume and its storage (virStorageVolDelete). */
  deleteVolume(pool: string, name: string): Promise<void> {
    return this.call((native) => native.deleteVolume(pool, name));
  }

  /** Lists every virtual network, active or not. */
  listNetworks(): Promise<NetworkSummary[]> {
    return this.call((native) => native.listNetworks());
  }

  /** The network's XML description. */
  networkXml(name: string): Promise<string> {
    return this.call((native) => native.networkXml(name));
  }

  /** Defines a persistent, inactive network (virNetworkDefineXML). */
  defineNetwork(xml: string): Promise<NetworkSummary> {
    return this.call((native) => native.defineNetwork(xml));
  }

  /** Activates a network (virNetworkCreate). */
  startNetwork(name: string): Promise<void> {
    return this.call((native) => native.startNetwork(name));
  }

  /** Deactivates a network (virNetworkDestroy). */
  stopNetwork(name: string): Promise<void> {
    return this.call((native) => native.stopNetwork(name));
  }

  /** Removes the definition of a network (virNetworkUndefine); an active network becomes transient. */
  undefineNetwork(name: string): Promise<void> {
    return this.call((native) => native.undefineNetwork(name));
  }

  /**
   * Sets the one listener of domain lifecycle events (started, stopped,
   * suspended, defined, ...) on this connection, replacing any earlier one. The
   * first call registers with libvirt, whose event loop runs on a thread of its
   * own; the returned promise resolves once the registration holds. Events are
   * delivered on the main thread, in the order libvirt reports them, for changes
   * made through any connection to the same hypervisor. Pending deliveries do
   * not keep the process alive. An exception thrown by the listener becomes an
   * uncaught exception.
   */
  onDomainLifecycle(listener: (event: DomainLifecycleEvent) => void): Promise<void> {
    this.listener = listener;
    if (!this.watching) {
      const watching = this.call((native) => native.watchLifecycle((event) => this.listener?.(event)));
      this.watching = watching;
      watching.catch(() => {
        if (this.watching === watching) this.watching = undefined;
      });
    }
    return this.watching;
  }

  /**
   * Sets the one listener of reboot events (VIR_DOMAIN_EVENT_ID_REBOOT) on this
   * connection, replacing any earlier one: it is called with the domain's UUID
   * when the guest of a running domain restarted, whether the guest rebooted
   * itself, was asked to (virDomainReboot), or was reset. Registration and
   * delivery are as for onDomainLifecycle. Drivers that have no reboot events
   * never call it.
   */
  onDomainReboot(listener: (uuid: string) => void): Promise<void> {
    this.rebootListener = listener;
    if (!this.watchingReboots) {
      const watching = this.call((native) => native.watchReboot((uuid) => this.rebootListener?.(uuid)));
      this.watchingReboots = watching;
      watching.catch(() => {
        if (this.watchingReboots === watching) this.watchingReboots = undefined;
      });
    }
    return this.watchingReboots;
  }

  private async call<T>(job: (native: NativeConnection) => Promise<T>): Promise<T> {
    if (!this.native) throw new Error(`the libvirt connection to ${this.uri} is not open`);
    return job(this.native);
  }
}
