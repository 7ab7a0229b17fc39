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

export interface Services {
  auth: AuthService;
  dataCenters: DataCenterService;
  clusters: ClusterService;
  hosts: HostService;
  vms: VmService;
  tasks: TaskService;
  scheduler: TaskScheduler;
}

export function createServices(orm: Orm, hub: AgentHub, log: Logger, options: { heartbeatIntervalMs: number; tokenLifetimeMs: number }): Services {
  const scheduler = new TaskScheduler(orm, hub, log.child({ component: 'scheduler' }));
  return {
    auth: new AuthService(orm, options.tokenLifetimeMs),
    dataCenters: new DataCenterService(orm),
    clusters: new ClusterService(orm),
    hosts: new HostService(orm, hub, options.heartbeatIntervalMs),
    vms: new VmService(orm, scheduler),
    tasks: new TaskService(orm, scheduler),
    scheduler,
  };
}
