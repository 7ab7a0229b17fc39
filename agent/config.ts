import { isIP } from 'node:net';
import os from 'node:os';
import { defaultMountRoot } from './hypervisor/libvirt/designer.js';
import { defaultUnplugTimeoutMs } from './hypervisor/libvirt/driver.js';
import { domainTypes, isDomainType, type DomainType } from './hypervisor/libvirt/host-capabilities.js';
import { defaultDisplayAddress } from './hypervisor/libvirt/consoles.js';

export interface AgentConfig {
  controllerAddress: string;
  /** A one-time enrollment token (DROVER_ENROLLMENT_TOKEN), used only while the agent holds no certificate. */
  enrollmentToken?: string;
  libvirtUri: string;
  dataDir: string;
  hostname: string;
  cluster: string;
  pollIntervalMs: number;
  shutdownTimeoutMs: number;
  /** How long a reboot waits for the guest to restart before it resets the domain. */
  rebootTimeoutMs: number;
  /** How long a device unplug waits for the guest to release the device (the driver's default when absent). */
  unplugTimeoutMs?: number;
  /** Where shared storage (nfs, posixfs) is mounted on this host. */
  storageMountRoot: string;
  storageReportIntervalMs: number;
  /** The domain type of the host's guests when the operator chose one (DROVER_DOMAIN_TYPE: kvm or qemu); otherwise the best the host offers. */
  domainType?: DomainType;
  /** The IP address guests' graphics consoles listen on (DROVER_DISPLAY_ADDRESS); the loopback address unless the operator chose another. */
  displayAddress?: string;
  /** Where the agent writes cloud-init seeds (DROVER_CLOUD_INIT_DIR), a directory QEMU can reach; `cloud-init` in the data directory by default. */
  cloudInitDir?: string;
  /** The libvirt URI other hosts' libvirtd migrate domains to this host at (DROVER_MIGRATION_URI); `qemu+tls://<host name>/system` for a QEMU host by default, none for others. */
  migrationUri?: string;
  /** The host name or address QEMU's migration stream reaches this host at (DROVER_MIGRATION_ADDRESS); the host name by default. */
  migrationAddress?: string;
}

function displayAddressOf(env: NodeJS.ProcessEnv): string {
  const raw = env.DROVER_DISPLAY_ADDRESS;
  if (raw === undefined || raw === '') return defaultDisplayAddress;
  if (isIP(raw) === 0) throw new Error(`DROVER_DISPLAY_ADDRESS must be an IPv4 or IPv6 address, not ${raw}`);
  return raw;
}

function domainTypeOf(env: NodeJS.ProcessEnv): DomainType | undefined {
  const raw = env.DROVER_DOMAIN_TYPE;
  if (raw === undefined || raw === '') return undefined;
  if (!isDomainType(raw)) throw new Error(`DROVER_DOMAIN_TYPE must be one of ${domainTypes.join(', ')}, not ${raw}`);
  return raw;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, not ${raw}`);
  return value;
}

/** The migration URI a host has unless its operator set one: libvirt's TLS transport to its host name, for a QEMU host only. */
export function defaultMigrationUri(libvirtUri: string, hostname: string): string {
  return libvirtUri.startsWith('qemu') ? `qemu+tls://${hostname}/system` : '';
}

export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): AgentConfig {
    return {
    controllerAddress: env.DROVER_CONTROLLER || '127.0.0.1:8081',
    enrollmentToken: env.DROVER_ENROLLMENT_TOKEN || undefined,
    libvirtUri: env.DROVER_LIBVIRT_URI || 'test:///default',
    dataDir: env.DROVER_AGENT_DATA_DIR || './data/agent',
    hostname: env.DROVER_HOST_NAME || os.hostname(),
    cluster: env.DROVER_CLUSTER ?? '',
    pollIntervalMs: positiveInteger(env, 'DROVER_POLL_INTERVAL_MS', 1000),
    shutdownTimeoutMs: positiveInteger(env, 'DROVER_SHUTDOWN_TIMEOUT_MS', 60_000),
    rebootTimeoutMs: positiveInteger(env, 'DROVER_REBOOT_TIMEOUT_MS', 120_000),
    unplugTimeoutMs: positiveInteger(env, 'DROVER_UNPLUG_TIMEOUT_MS', defaultUnplugTimeoutMs),
    storageMountRoot: env.DROVER_STORAGE_MOUNT_ROOT || defaultMountRoot,
    storageReportIntervalMs: positiveInteger(env, 'DROVER_STORAGE_REPORT_INTERVAL_MS', 60_000),
    domainType: domainTypeOf(env),
    displayAddress: displayAddressOf(env),
    cloudInitDir: env.DROVER_CLOUD_INIT_DIR || undefined,
    migrationUri: env.DROVER_MIGRATION_URI,
    migrationAddress: env.DROVER_MIGRATION_ADDRESS || undefined,
  };
}
