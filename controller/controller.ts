import { VmMigrationRunner } from './tasks/vm-migration.js';
import { MigrationService } from './services/migrations.js';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { openDatabase, type Orm } from './db/orm.js';
import { AgentHub } from './agents/agent-hub.js';
import type { Services } from './api/services.js';
import { TaskScheduler } from './tasks/task-scheduler.js';
import { JobRecorder } from './tasks/jobs.js';
import { JobService } from './services/jobs.js';
import { Placement } from './state/placement.js';
import { VmLifecycleRunner } from './tasks/vm-lifecycle.js';
import { vmActions } from './rules/vm-actions.js';
import { NetworkHosts } from './tasks/network-hosts.js';
import { VmRemoval } from './tasks/vm-removal.js';
import { DeviceSync } from './tasks/device-sync.js';
import { StorageAccess } from './tasks/storage-access.js';
import { DiskRunner, DiskVolumes, StorageDomainRunner } from './tasks/storage-runners.js';
import { VmDeviceRunner, vmDeviceActions } from './tasks/vm-device-runner.js';
import { CdromRunner, cdromActions } from './tasks/cdrom-runner.js';
import { TemplateRunner } from './tasks/template-runner.js';
import { VmPoolRunner } from './tasks/vm-pool-runner.js';
import { MacAddresses } from './tasks/mac-addresses.js';
import { HostMaintenanceRunner, VmDepartureRunner, vmDepartureActions } from './tasks/host-maintenance.js';
import { hostActions } from './rules/host-admin.js';
import { AuthService, type AuthSettings } from './services/auth.js';
import { ClusterService } from './services/clusters.js';
import { DataCenterService } from './services/datacenters.js';
import { HostService } from './services/hosts.js';
import { TaskService } from './services/tasks.js';
import { VmService } from './services/vms.js';
import { Records } from './state/records.js';
import { VmDevices } from './state/devices.js';
import { StorageDomainService } from './services/storage-domains.js';
import { DiskService } from './services/disks.js';
import { NetworkService } from './services/networks.js';
import { MacPoolService } from './services/mac-pools.js';
import { VmDeviceRequests } from './services/vm-device-requests.js';
import { CdromService } from './services/cdroms.js';
import { TemplateService } from './services/templates.js';
import { VmPoolService } from './services/vm-pools.js';
import { QueryService } from './query/queries.js';
import { ConsoleService } from './services/consoles.js';
import { EnrollmentService } from './services/enrollment.js';
import { AuthorizationService } from './services/authorization.js';
import { UserService } from './services/users.js';
import { TagService } from './services/tags.js';
import { AgentGatewayServer } from './gateway/grpc-server.js';
import { createApi } from './api/server.js';
import { createApiServer } from './api/listener.js';
import { countStatements, dialectOf } from './db/dialect.js';
import { defaultJobCleanup, splitHostPort, type ControllerConfig } from './config.js';
import { CertificateAuthority } from './pki/certificate-authority.js';
import { loadGivenCertificate } from './pki/given-certificate.js';
import { EventLog } from './state/event-log.js';
import { EventService } from './services/events.js';
import { eventOf } from './rules/events.js';

/** The controller issues its own server certificate at every start, so a year is far more than it needs. */
const serverCertificateLifetimeMs = 365 * 24 * 3600_000;
/** How often ended jobs are looked for to be removed (see ControllerConfig.jobCleanup). */
const jobCleanupIntervalMs = 60_000;

export interface RunningController {
  apiUrl: string;
  grpcAddress: string;
  services: Services;
  orm: Orm;
  /** The controller's certificate authority, which signs host certificates and the controller's own. */
  ca: CertificateAuthority;
  /** The certificate (with the CA's behind it) and key of the controller's endpoints, issued at start for the configured names. */
  serverCertificate: { certificatePem: string; privateKeyPem: string };
  /** The admin password generated at first start, if one was. */
  generatedAdminPassword?: string;
  stop(): Promise<void>;
}

/** Builds every part of the controller on an open database: live state, the task engine with its runners, the services and queries. */
async function createServices(
  orm: Orm,
  hub: AgentHub,
  ca: CertificateAuthority,
  log: Logger,
  options: Pick<ControllerConfig, 'heartbeatIntervalMs' | 'maxEmbeddedObjects' | 'enrollmentTokenLifetimeMs' | 'hostCertificateLifetimeMs' | 'migration' | 'maintenanceMigrations' | 'events'> & AuthSettings,
): Promise<{ services: Services; scheduler: TaskScheduler; eventLog: EventLog }> {
  const eventLog = new EventLog(orm, log.child({ component: 'events' }), options.events);
  await eventLog.load();
  const records = new Records(orm, (error) => log.error({ err: error }, 'could not write a reported VM state'), eventLog);
  await records.load();
  const jobRecorder = new JobRecorder(orm, records);
  const scheduler = new TaskScheduler(orm, log.child({ component: 'scheduler' }), jobRecorder);
  const authorization = new AuthorizationService(orm, records);
  const events = new EventService(eventLog, orm, records, authorization);
  scheduler.whenEnded((task) => events.taskEnded(task));
  const devices = new VmDevices(orm);
  const macAddresses = new MacAddresses();
  const storageDomains = new StorageDomainService(orm, scheduler, devices);
  const disks = new DiskService(orm, records, devices, scheduler);
  const vms = new VmService(orm, records, scheduler, devices, macAddresses);
  const vmPools = new VmPoolService(orm, records, scheduler, vms, log.child({ component: 'vm-pools' }));

  const recordUsage = (usage: Parameters<StorageDomainService['recordUsage']>[0]) => storageDomains.recordUsage(usage);
  const access = new StorageAccess(orm, records, hub);
  const volumes = new DiskVolumes(orm, access, devices, recordUsage);
  const sync = new DeviceSync(records, devices, hub);
  const removal = new VmRemoval(orm, records, devices, volumes);
  const placement = new Placement(records);
  const networkHosts = new NetworkHosts(orm, records, hub, log.child({ component: 'networks' }));
  scheduler.register('vm', vmActions, new VmLifecycleRunner(records, devices, hub, placement, (vm, task) => removal.remove(vm, task)));
  const migrationRunner = new VmMigrationRunner(orm, records, devices, hub, placement, options.migration, log.child({ component: 'migrations' }));
  scheduler.register('vm', ['migrate'], migrationRunner);
  scheduler.register('vm', vmDeviceActions, new VmDeviceRunner(orm, records, devices, sync, volumes, macAddresses));
  scheduler.register('vm', cdromActions, new CdromRunner(orm, records, sync, hub));
  scheduler.register('storage_domain', ['activate', 'deactivate'], new StorageDomainRunner(orm, records, access, devices, recordUsage, (id) => scheduler.isBusy(id)));
  scheduler.register('disk', ['create', 'remove'], new DiskRunner(orm, volumes, sync));
  scheduler.register('template', ['create', 'remove'], new TemplateRunner(orm, volumes, devices));
  scheduler.register('vm_pool', ['remove'], new VmPoolRunner(orm, records, scheduler));
  const maintenance = new HostMaintenanceRunner(orm, records, devices, scheduler, { parallelMigrations: options.maintenanceMigrations });
  scheduler.register('host', hostActions, maintenance);
  scheduler.register('vm', vmDepartureActions, new VmDepartureRunner(records, devices, hub));

  const services: Services = {
    records,
    events,
    auth: new AuthService(orm, options, events),
    authorization,
    users: new UserService(orm, records, authorization),
    tags: new TagService(orm, records),
    dataCenters: new DataCenterService(orm),
    clusters: new ClusterService(orm),
    hosts: new HostService(orm, records, hub, options.heartbeatIntervalMs, (hostId) => void networkHosts.hostUp(hostId), {
      scheduler,
      cancelDeactivation: (hostId) => maintenance.cancelDeactivation(hostId),
    }),
    vms,
    migrations: new MigrationService(records, scheduler, migrationRunner),
    vmDevices: new VmDeviceRequests(orm, records, scheduler, disks),
    cdroms: new CdromService(orm, records, scheduler, access, hub),
    consoles: new ConsoleService(records, hub),
    storageDomains,
    disks,
    networks: new NetworkService(orm, devices, networkHosts),
    macPools: new MacPoolService(orm, macAddresses),
    templates: new TemplateService(orm, records, devices, scheduler),
    vmPools,
    tasks: new TaskService(orm, scheduler),
    jobs: new JobService(orm, dialectOf(orm)),
    queries: new QueryService(orm, records, scheduler, vms, authorization, options.maxEmbeddedObjects),
    enrollment: new EnrollmentService(orm, ca, { tokenLifetimeMs: options.enrollmentTokenLifetimeMs, hostCertificateLifetimeMs: options.hostCertificateLifetimeMs }),
  };
  return { services, scheduler, eventLog };
}

/** Opens the database, then serves agents over gRPC and clients over HTTPS (or plain HTTP when configured). */
export async function startController(config: ControllerConfig, log: Logger): Promise<RunningController> {
  const ca = await CertificateAuthority.open(path.join(config.dataDir, 'pki'), config.givenCa);
  const serverCertificate = await ca.issueServerCertificate(config.tlsNames, serverCertificateLifetimeMs);
  const apiTls = config.apiTls.kind === 'off' ? undefined : config.apiTls.kind === 'given' ? await loadGivenCertificate(config.apiTls) : serverCertificate;
  const orm = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  const hub = new AgentHub();
  const { services, scheduler, eventLog } = await createServices(orm, hub, ca, log, config);
  eventLog.record(eventOf('controller_started', {}));
  const pruneEvents = () =>
    eventLog
      .prune()
      .then((removed) => removed && log.info({ removed }, 'pruned the audit log'))
      .catch((error: unknown) => log.error({ err: error }, 'pruning the audit log failed'));
  void pruneEvents();
  const eventPruning = setInterval(pruneEvents, config.events.pruneIntervalMs);
  const generatedAdminPassword = await services.auth.ensureAdmin(config.adminPassword);
  await services.users.ensureAdminPermission();
  await scheduler.recover();

  const gateway = new AgentGatewayServer(hub, services.hosts, services.enrollment, log.child({ component: 'agents' }), {
    serverCertificate,
    storageReported: (hostId, usage) => services.storageDomains.hostReportedUsage(hostId, usage),
    migrationProgress: (hostId, commandId, vmId, progress) => services.migrations.progressReported(hostId, commandId, vmId, progress),
  });
  const grpcPort = await gateway.listen(config.grpcListen);
  const grpcAddress = `${splitHostPort(config.grpcListen).host}:${grpcPort}`;

  if (config.countStatements) countStatements(orm);
  const pki = { caCertificatePem: ca.certificatePem, engineCertificatePem: new X509Certificate(serverCertificate.certificatePem).toString() };
  const api = createApi(services, log.child({ component: 'api' }), pki, { countStatements: config.countStatements, eventStreams: { bufferBytes: config.events.streamBufferBytes, heartbeatMs: 15_000 } });
  const server = createApiServer(api.callback(), apiTls);
  const { host, port } = splitHostPort(config.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const apiPort = (server.address() as AddressInfo).port;
  const apiUrl = `${apiTls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${apiPort}/ovirt-engine/api`;

  let checking = false;
  const liveness = setInterval(() => {
    if (checking) return;
    checking = true;
    services.hosts
      .checkLiveness()
      .catch((error) => log.error({ err: error }, 'host liveness check failed'))
      .finally(() => (checking = false));
  }, Math.max(100, Math.floor(config.heartbeatIntervalMs / 2)));

  let reconciling = false;
  const pools = setInterval(() => {
    if (reconciling) return;
    reconciling = true;
    services.vmPools
      .reconcile()
      .catch((error) => log.error({ err: error }, 'keeping VM pools as configured failed'))
      .finally(() => (reconciling = false));
  }, config.poolReconcileIntervalMs);

  const jobCleanup = config.jobCleanup ?? defaultJobCleanup;
  let pruning = false;
  const jobs = setInterval(() => {
    if (pruning) return;
    pruning = true;
    services.jobs
      .prune(Date.now(), jobCleanup.succeededMs, jobCleanup.failedMs)
      .catch((error) => log.error({ err: error }, 'removing ended jobs failed'))
      .finally(() => (pruning = false));
  }, jobCleanupIntervalMs);

  log.info({ apiUrl, grpcAddress }, 'controller started');
  return {
    apiUrl,
    grpcAddress,
    services,
    orm,
    ca,
    serverCertificate,
    generatedAdminPassword,
    async stop() {
      clearInterval(liveness);
      clearInterval(pools);
      clearInterval(eventPruning);
      clearInterval(jobs);
      await scheduler.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      hub.closeAll();
      await gateway.close();
      await services.records.settled().catch((error: unknown) => log.error({ err: error }, 'VM changes could not be written before stopping'));
      await Promise.race([eventLog.settled(), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
      await orm.close();
    },
  };
}
