import type { AuthService } from '../services/auth.js';
import type { ClusterService } from '../services/clusters.js';
import type { DataCenterService } from '../services/datacenters.js';
import type { HostService } from '../services/hosts.js';
import type { TaskService } from '../services/tasks.js';
import type { JobService } from '../services/jobs.js';
import type { VmService } from '../services/vms.js';
import type { Records } from '../state/records.js';
import type { StorageDomainService } from '../services/storage-domains.js';
import type { DiskService } from '../services/disks.js';
import type { NetworkService } from '../services/networks.js';
import type { MacPoolService } from '../services/mac-pools.js';
import type { VmDeviceRequests } from '../services/vm-device-requests.js';
import type { CdromService } from '../services/cdroms.js';
import type { TemplateService } from '../services/templates.js';
import type { VmPoolService } from '../services/vm-pools.js';
import type { QueryService } from '../query/queries.js';
import type { ConsoleService } from '../services/consoles.js';
import type { EnrollmentService } from '../services/enrollment.js';
import type { AuthorizationService } from '../services/authorization.js';
import type { UserService } from '../services/users.js';
import type { MigrationService } from '../services/migrations.js';
import type { EventService } from '../services/events.js';
import type { TagService } from '../services/tags.js';

/** What the HTTP API is given to work with: the services and the queries. */
export interface Services {
  records: Records;
  auth: AuthService;
  authorization: AuthorizationService;
  users: UserService;
  dataCenters: DataCenterService;
  clusters: ClusterService;
  hosts: HostService;
  vms: VmService;
  migrations: MigrationService;
  vmDevices: VmDeviceRequests;
  cdroms: CdromService;
  consoles: ConsoleService;
  storageDomains: StorageDomainService;
  disks: DiskService;
  networks: NetworkService;
  macPools: MacPoolService;
  templates: TemplateService;
  vmPools: VmPoolService;
  tasks: TaskService;
  jobs: JobService;
  queries: QueryService;
  enrollment: EnrollmentService;
  events: EventService;
  tags: TagService;
}

