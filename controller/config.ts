import type { EventLogSettings } from './state/event-log.js';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { LockRule, LoginThrottleSettings } from './services/login-throttle.js';
import type { MigrationSettings } from './rules/migration.js';

/** The values of DROVER_API_TLS: `on` (the default) serves the API over HTTPS, `off` over plain HTTP. */
export const apiTlsSettings = ['on', 'off'] as const;

/**
 * How the API is served: over HTTPS with the server certificate the controller's CA issues (`issued`, the
 * default), over HTTPS with the operator's own certificate and key (`given`: DROVER_TLS_CERT and
 * DROVER_TLS_KEY), or over plain HTTP (`off`: DROVER_API_TLS=off).
 */
export type ApiTls = { kind: 'issued' } | { kind: 'given'; certificateFile: string; keyFile: string } | { kind: 'off' };

export interface ControllerConfig {
  /** host:port of the API. */
  listen: string;
  apiTls: ApiTls;
  /** host:port of the agent gRPC endpoint. */
  grpcListen: string;
  dataDir: string;
  /** A postgres:// URL; undefined means a SQLite file in dataDir. */
  databaseUrl?: string;
  adminPassword?: string;
  heartbeatIntervalMs: number;
  tokenLifetimeMs: number;
  /** How often VM pools are brought in line with their size and prestarted VMs. */
  poolReconcileIntervalMs: number;
  /** Whether each response says how many SQL statements it took (X-Drover-Statements), for tests and benchmarks. */
  countStatements?: boolean;
  /** The most objects one request may embed with ?follow= (100,000 by default). */
  maxEmbeddedObjects?: number;
  /** How long a new host enrollment token is valid unless its creator says otherwise (DROVER_ENROLLMENT_TOKEN_LIFETIME_SECONDS, an hour by default). */
  enrollmentTokenLifetimeMs: number;
  /** How long a host certificate is valid (DROVER_HOST_CERTIFICATE_LIFETIME_SECONDS, a year by default); agents renew theirs when a third of it is left. */
  hostCertificateLifetimeMs: number;
  /** The operator's own CA (DROVER_CA_CERT and DROVER_CA_KEY, PEM files); without it the controller creates one in `<dataDir>/pki` at first start. */
  givenCa?: { certificateFile: string; keyFile: string };
  /** The DNS names and IP addresses agents and clients reach the controller by (DROVER_TLS_NAMES, comma-separated), which its server certificate names. */
  tlsNames: string[];
  /** How wrong passwords slow down further attempts, per client address and per user name. */
  loginThrottle: LoginThrottleSettings;
  /** How many password verifications (scrypt) run at once (2 by default, of libuv's 4 threads). */
  concurrentPasswordChecks: number;
  /** How many VMs one host's deactivation migrates at once (DROVER_MAINTENANCE_MIGRATIONS, 2 by default); the others wait their turn. */
  maintenanceMigrations: number;
  /**
   * How live migrations run: DROVER_MIGRATION_STALL_TIMEOUT_SECONDS (60: a
   * migration whose remaining data has not shrunk for that long is aborted),
   * DROVER_MIGRATION_BASE_DEADLINE_SECONDS (120) and
   * DROVER_MIGRATION_DEADLINE_SECONDS_PER_GIB (60: a migration not complete
   * after the base plus that much per GiB of the VM's memory is aborted), and
   * DROVER_MIGRATION_BANDWIDTH_MIB (0: no cap, else MiB/s per migration).
   */
  migration: MigrationSettings;
  /**
   * The audit log and its stream: events older than DROVER_EVENTS_MAX_AGE_DAYS
   * (30) or beyond the newest DROVER_EVENTS_MAX_COUNT (500000) are pruned every
   * DROVER_EVENTS_PRUNE_INTERVAL_SECONDS (300); a stream subscriber that falls
   * DROVER_EVENT_STREAM_BUFFER_BYTES (1 MiB) behind is cut off and resumes
   * from the log when it reconnects.
   */
  events: EventLogSettings & { pruneIntervalMs: number; streamBufferBytes: number };
  /**
   * When ended jobs marked to be cleared (every job of Drover's own, and
   * external ones with auto_cleared) are removed, as oVirt's engine cleans
   * its jobs up: DROVER_JOB_CLEANUP_SUCCEEDED_MINUTES after a job finished
   * (10 by default) and DROVER_JOB_CLEANUP_FAILED_MINUTES after it failed or
   * was aborted (60 by default); checked every minute.
   */
  jobCleanup?: JobCleanupSettings;
}

export interface JobCleanupSettings {
  succeededMs: number;
  failedMs: number;
}

export const defaultJobCleanup: JobCleanupSettings = { succeededMs: 10 * 60_000, failedMs: 60 * 60_000 };

export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): ControllerConfig {
  return {
    listen: env.DROVER_LISTEN || '127.0.0.1:8080',
    apiTls: apiTlsOf(env),
    grpcListen: env.DROVER_GRPC_LISTEN || '127.0.0.1:8081',
    dataDir: path.resolve(env.DROVER_DATA_DIR || './data'),
    databaseUrl: env.DROVER_DATABASE_URL || undefined,
    adminPassword: env.DROVER_ADMIN_PASSWORD || undefined,
    heartbeatIntervalMs: positive(env.DROVER_HEARTBEAT_INTERVAL_MS, 5000, 'DROVER_HEARTBEAT_INTERVAL_MS'),
    tokenLifetimeMs: positive(env.DROVER_TOKEN_LIFETIME_SECONDS, 36_000, 'DROVER_TOKEN_LIFETIME_SECONDS') * 1000,
    poolReconcileIntervalMs: positive(env.DROVER_POOL_RECONCILE_INTERVAL_MS, 2000, 'DROVER_POOL_RECONCILE_INTERVAL_MS'),
    countStatements: env.DROVER_COUNT_STATEMENTS === '1',
    maxEmbeddedObjects: positive(env.DROVER_MAX_EMBEDDED_OBJECTS, 100_000, 'DROVER_MAX_EMBEDDED_OBJECTS'),
    enrollmentTokenLifetimeMs: positive(env.DROVER_ENROLLMENT_TOKEN_LIFETIME_SECONDS, 3600, 'DROVER_ENROLLMENT_TOKEN_LIFETIME_SECONDS') * 1000,
    hostCertificateLifetimeMs: positive(env.DROVER_HOST_CERTIFICATE_LIFETIME_SECONDS, 365 * 24 * 3600, 'DROVER_HOST_CERTIFICATE_LIFETIME_SECONDS') * 1000,
    givenCa: givenCaOf(env),
    tlsNames: tlsNamesOf(env),
    loginThrottle: {
      perAddress: lockRule(env, 'ADDRESS', { freeFailures: 10, firstLockSeconds: 1, maxLockSeconds: 900 }),
      perUser: lockRule(env, 'USER', { freeFailures: 10, firstLockSeconds: 1, maxLockSeconds: 30 }),
      rememberedKeys: count(env.DROVER_LOGIN_REMEMBERED_KEYS, 10_000, 'DROVER_LOGIN_REMEMBERED_KEYS', 1),
    },
    concurrentPasswordChecks: count(env.DROVER_CONCURRENT_PASSWORD_CHECKS, 2, 'DROVER_CONCURRENT_PASSWORD_CHECKS', 1),
    maintenanceMigrations: count(env.DROVER_MAINTENANCE_MIGRATIONS, 2, 'DROVER_MAINTENANCE_MIGRATIONS', 1),
    migration: {
      stallTimeoutMs: positive(env.DROVER_MIGRATION_STALL_TIMEOUT_SECONDS, 60, 'DROVER_MIGRATION_STALL_TIMEOUT_SECONDS') * 1000,
      baseDeadlineMs: positive(env.DROVER_MIGRATION_BASE_DEADLINE_SECONDS, 120, 'DROVER_MIGRATION_BASE_DEADLINE_SECONDS') * 1000,
      deadlineMsPerGiB: positive(env.DROVER_MIGRATION_DEADLINE_SECONDS_PER_GIB, 60, 'DROVER_MIGRATION_DEADLINE_SECONDS_PER_GIB') * 1000,
      bandwidthMiBPerSecond: count(env.DROVER_MIGRATION_BANDWIDTH_MIB, 0, 'DROVER_MIGRATION_BANDWIDTH_MIB'),
    },
    events: {
      maxAgeMs: positive(env.DROVER_EVENTS_MAX_AGE_DAYS, 30, 'DROVER_EVENTS_MAX_AGE_DAYS') * 24 * 3600 * 1000,
      maxCount: count(env.DROVER_EVENTS_MAX_COUNT, 500_000, 'DROVER_EVENTS_MAX_COUNT', 1),
      pruneIntervalMs: positive(env.DROVER_EVENTS_PRUNE_INTERVAL_SECONDS, 300, 'DROVER_EVENTS_PRUNE_INTERVAL_SECONDS') * 1000,
      streamBufferBytes: count(env.DROVER_EVENT_STREAM_BUFFER_BYTES, 1024 * 1024, 'DROVER_EVENT_STREAM_BUFFER_BYTES', 4096),
    },
    jobCleanup: {
      succeededMs: positive(env.DROVER_JOB_CLEANUP_SUCCEEDED_MINUTES, 10, 'DROVER_JOB_CLEANUP_SUCCEEDED_MINUTES') * 60_000,
      failedMs: positive(env.DROVER_JOB_CLEANUP_FAILED_MINUTES, 60, 'DROVER_JOB_CLEANUP_FAILED_MINUTES') * 60_000,
    },
  };
}

function givenCaOf(env: NodeJS.ProcessEnv): ControllerConfig['givenCa'] {
  const certificateFile = env.DROVER_CA_CERT || undefined;
  const keyFile = env.DROVER_CA_KEY || undefined;
  if (!certificateFile && !keyFile) return undefined;
  if (!certificateFile || !keyFile) throw new Error('DROVER_CA_CERT and DROVER_CA_KEY go together: give both or neither');
  return { certificateFile: path.resolve(certificateFile), keyFile: path.resolve(keyFile) };
}

function apiTlsOf(env: NodeJS.ProcessEnv): ApiTls {
  const setting = env.DROVER_API_TLS || 'on';
  if (!(apiTlsSettings as readonly string[]).includes(setting)) throw new Error(`DROVER_API_TLS must be ${apiTlsSettings.join(' or ')}, not ${setting}`);
  const certificateFile = env.DROVER_TLS_CERT || undefined;
  const keyFile = env.DROVER_TLS_KEY || undefined;
  if (setting === 'off') {
    if (certificateFile || keyFile) throw new Error('DROVER_TLS_CERT and DROVER_TLS_KEY are the API\'s HTTPS certificate and key: they cannot be given with DROVER_API_TLS=off');
    return { kind: 'off' };
  }
  if (!certificateFile && !keyFile) return { kind: 'issued' };
  if (!certificateFile || !keyFile) throw new Error('DROVER_TLS_CERT and DROVER_TLS_KEY go together: give both or neither');
  return { kind: 'given', certificateFile: path.resolve(certificateFile), keyFile: path.resolve(keyFile) };
}

/** The names the server certificate carries: the operator's, or the loopback names and this machine's host name. */
function tlsNamesOf(env: NodeJS.ProcessEnv): string[] {
  const given = (env.DROVER_TLS_NAMES ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of given) if (!isIP(name) && !/^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(name)) throw new Error(`DROVER_TLS_NAMES: ${name} is neither a DNS name nor an IP address`);
  return given.length ? given : [...new Set(['localhost', '127.0.0.1', '::1', os.hostname()])];
}

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`${name} must be a positive number, not ${value}`);
  return number;
}

function lockRule(env: NodeJS.ProcessEnv, key: 'ADDRESS' | 'USER', defaults: LockRule): LockRule {
  const name = (setting: string) => `DROVER_LOGIN_${key}_${setting}`;
  return {
    freeFailures: count(env[name('FREE_FAILURES')], defaults.freeFailures, name('FREE_FAILURES')),
    firstLockSeconds: positive(env[name('FIRST_LOCK_SECONDS')], defaults.firstLockSeconds, name('FIRST_LOCK_SECONDS')),
    maxLockSeconds: positive(env[name('MAX_LOCK_SECONDS')], defaults.maxLockSeconds, name('MAX_LOCK_SECONDS')),
  };
}

function count(value: string | undefined, fallback: number, name: string, minimum = 0): number {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < minimum) throw new Error(`${name} must be a whole number of at least ${minimum}, not ${value}`);
  return number;
}

export function splitHostPort(address: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(address);
  if (!match) throw new Error(`${address} is not host:port`);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) };
}
