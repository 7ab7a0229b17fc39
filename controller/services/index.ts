import type { Logger } from 'pino';
import type { Orm } from '../db/orm.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { TaskScheduler } from '../scheduler/task-scheduler.js';
import { Placement } from '../scheduler/placement.js';
import { VmLifecycleRunner, vmLifecycleActions } from '../scheduler/vm-lifecycle.js';
import { VmRemoval } from '../scheduler/vm-removal.js';
import { DeviceSync } from '../scheduler/device-sync.js';
import { StorageAccess } from '../scheduler/storage-access.js';
import { DiskRunner, DiskVolumes, StorageDomainRunner } from '../scheduler/storage-runners.js';
import { VmDeviceRunner, vmDeviceActions } from '../scheduler/vm-device-runner.js';
import { TemplateRunner } from '../scheduler/template-runner.js';
import { AuthService } from './auth.js';
import { ClusterService } from './clusters.js';
import { DataCenterService } from './datacenters.js';
import { HostService } from './hosts.js';
import { TaskService } from './tasks.js';
import { VmService } from './vms.js';
import { Records } from './records.js';
import { VmDevices } from './vm-devices.js';
import { StorageDomainService } from './storage-domains.js';
import { DiskService } from './disks.js';
import { NetworkService } from './networks.js';
import { MacPoolService } from './mac-pools.js';
import { VmDeviceRequests } from './vm-device-requests.js';
import { TemplateService } from './templates.js';
import { VmPoolRunner, VmPoolService } from './vm-pools.js';
import { QueryService } from '../query/queries.js';

export interface Services {
  records: Records;
  auth: AuthService;
  dataCenters: DataCenterService;
  clusters: ClusterService;
  hosts: HostService;
  vms: VmService;
  vmDevices: VmDeviceRequests;
  storageDomains: StorageDomainService;
  disks: DiskService;
  networks: NetworkService;
  macPools: MacPoolService;
  templates: TemplateService;
  vmPools: VmPoolService;
  tasks: TaskService;
  queries: QueryService;
  scheduler: TaskScheduler;
}

export async function createServices(orm: Orm, hub: AgentHub, log: Logger, options: { heartbeatIntervalMs: number; tokenLifetimeMs: number; maxEmbeddedObjects?: number }): Promise<Services> {
  const records = new Records(orm, (error) => log.error({ err: error }, 'could not write a reported VM state'));
  await records.load();
  const scheduler = new TaskScheduler(orm, log.child({ component: 'scheduler' }));
  const devices = new VmDevices(orm);
  const macPools = new MacPoolService(orm);
  const storageDomains = new StorageDomainService(orm, scheduler, devices);
  const disks = new DiskService(orm, records, scheduler);
  const vms = new VmService(orm, records, scheduler, devices, macPools);
  const vmPools = new VmPoolService(orm, records, scheduler, vms, log.child({ component: 'vm-pools' }));

  const recordUsage = (usage: Parameters<StorageDomainService['recordUsage']>[0]) => storageDomains.recordUsage(usage);
  const access = new StorageAccess(orm, records, hub);
  const volumes = new DiskVolumes(orm, access, recordUsage);
  const sync = new DeviceSync(records, devices, hub);
  const removal = new VmRemoval(orm, records, devices, volumes);
  scheduler.register('vm', vmLifecycleActions, new VmLifecycleRunner(records, devices, hub, new Placement(records, hub), (vm, task) => removal.remove(vm, task)));
  scheduler.register('vm', vmDeviceActions, new VmDeviceRunner(orm, records, devices, sync, volumes, macPools));
  scheduler.register('storage_domain', ['activate', 'deactivate'], new StorageDomainRunner(orm, records, access, devices, recordUsage));
  scheduler.register('disk', ['create', 'remove'], new DiskRunner(orm, volumes, sync));
  scheduler.register('template', ['create', 'remove'], new TemplateRunner(orm, volumes));
  scheduler.register('vm_pool', ['remove'], new VmPoolRunner(orm, vmPools, vms, scheduler));

  return {
    records,
    auth: new AuthService(orm, options.tokenLifetimeMs),
    dataCenters: new DataCenterService(orm),
    clusters: new ClusterService(orm),
    hosts: new HostService(orm, records, hub, options.heartbeatIntervalMs),
    vms,
    vmDevices: new VmDeviceRequests(orm, records, scheduler, disks),
    storageDomains,
    disks,
    networks: new NetworkService(orm, devices),
    macPools,
    templates: new TemplateService(orm, records, scheduler),
    vmPools,
    tasks: new TaskService(orm, scheduler),
    queries: new QueryService(orm, records, scheduler, vms, options.maxEmbeddedObjects),
    scheduler,
  };
}
