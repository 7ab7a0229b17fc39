import type { Logger } from 'pino';
import type { Orm } from '../db/orm.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { TaskScheduler } from '../scheduler/task-scheduler.js';
import { AuthService } from './auth.js';
import { ClusterService } from './clusters.js';
import { DataCenterService } from './datacenters.js';
import { HostService } from './hosts.js';
import { TaskService } from './tasks.js';
import { VmService } from './vms.js';
import { Records } from './records.js';

export interface Services {
  records: Records;
  auth: AuthService;
  dataCenters: DataCenterService;
  clusters: ClusterService;
  hosts: HostService;
  vms: VmService;
  tasks: TaskService;
  scheduler: TaskScheduler;
}

export async function createServices(orm: Orm, hub: AgentHub, log: Logger, options: { heartbeatIntervalMs: number; tokenLifetimeMs: number }): Promise<Services> {
  const records = new Records(orm, (error) => log.error({ err: error }, 'could not write a reported VM state'));
  await records.load();
  const scheduler = new TaskScheduler(orm, records, hub, log.child({ component: 'scheduler' }));
  return {
    records,
    auth: new AuthService(orm, options.tokenLifetimeMs),
    dataCenters: new DataCenterService(orm),
    clusters: new ClusterService(orm),
    hosts: new HostService(orm, records, hub, options.heartbeatIntervalMs),
    vms: new VmService(orm, records, scheduler),
    tasks: new TaskService(orm, scheduler),
    scheduler,
  };
}
