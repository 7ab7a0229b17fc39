import type { Cluster, DataCenter, Host, Task } from '../../db/entities.js';
import type { VmView } from '../../services/vms.js';
import type { ServiceError } from '../../services/errors.js';
import { apiVmActions } from '../../scheduler/vm-actions.js';
import { droverVersion } from '../../../shared/version.js';
import { link, ref, type Rep } from './representation.js';

/**
 * Empty text is left out rather than rendered as an empty element: libgovirt asserts on an empty
 * `<description/>` ("desc_node->content != NULL"), and oVirt omits unset values too.
 */
const nonEmpty = (value: string | null | undefined): string | undefined => (value ? value : undefined);

/** Builds the representation of each kind of object; `base` is the API prefix the client used. */
export class Presenter {
  constructor(readonly base: string) {}

  href(...path: string[]): string {
    return [this.base, ...path].join('/');
  }

  time(epochMs: number | null | undefined): string | undefined {
    return epochMs == null ? undefined : new Date(epochMs).toISOString().replace('Z', '+00:00');
  }

  dataCenter(dc: DataCenter): Rep {
    const href = this.href('datacenters', dc.id);
    return {
      $: { href, id: dc.id },
      name: dc.name,
      description: nonEmpty(dc.description),
      link: [link(`${href}/clusters`, 'clusters')],
      local: dc.local,
      status: 'up',
      supported_versions: { version: [{ major: 4, minor: 7 }] },
      version: { major: 4, minor: 7 },
    };
  }

  cluster(cluster: Cluster): Rep {
    const href = this.href('clusters', cluster.id);
    return {
      $: { href, id: cluster.id },
      name: cluster.name,
      description: nonEmpty(cluster.description),
      cpu: { architecture: cluster.cpuArchitecture },
      version: { major: 4, minor: 7 },
      data_center: ref(this.href('datacenters', cluster.dataCenterId), cluster.dataCenterId),
    };
  }

  host(host: Host): Rep {
    const href = this.href('hosts', host.id);
    const [major, minor, build] = host.libvirtVersion.split('.');
    return {
      $: { href, id: host.id },
      name: host.name,
      link: [link(`${href}/tasks`, 'tasks')],
      address: host.address,
      cpu: { name: host.cpuModel, topology: { sockets: 1, cores: host.cpuCount, threads: 1 } },
      libvirt_version: host.libvirtVersion ? { build, full_version: `libvirt-${host.libvirtVersion}`, major, minor } : undefined,
      memory: host.memoryBytes,
      status: host.status,
      type: host.hypervisorType === 'QEMU' ? 'rhel' : host.hypervisorType.toLowerCase(),
      version: { full_version: `drover-agent-${host.agentVersion}` },
      cluster: ref(this.href('clusters', host.clusterId), host.clusterId),
    };
  }

  vm({ vm, status }: VmView): Rep {
    const href = this.href('vms', vm.id);
    return {
      $: { href, id: vm.id },
      actions: { link: apiVmActions.map((action) => link(`${href}/${action}`, action)) },
      name: vm.name,
      description: nonEmpty(vm.description),
      link: [link(`${href}/tasks`, 'tasks')],
      cpu: { architecture: 'x86_64', topology: { cores: vm.cpuCores, sockets: vm.cpuSockets, threads: vm.cpuThreads } },
      creation_time: this.time(vm.createdAt),
      display: { type: vm.displayType },
      memory: vm.memoryBytes,
      os: { type: vm.osType },
      status,
      type: 'server',
      cluster: ref(this.href('clusters', vm.clusterId), vm.clusterId),
      host: vm.hostId ? ref(this.href('hosts', vm.hostId), vm.hostId) : undefined,
    };
  }

  task(task: Task): Rep {
    const href = this.href('tasks', task.id);
    return {
      $: { href, id: task.id },
      action: task.action,
      status: task.state,
      correlation_id: task.correlationId ?? undefined,
      creation_time: this.time(task.createdAt),
      start_time: this.time(task.startedAt),
      end_time: this.time(task.endedAt),
      fault: task.errorReason ? { reason: task.errorReason, detail: task.errorDetail ?? '' } : undefined,
      host: task.hostId ? ref(this.href('hosts', task.hostId), task.hostId) : undefined,
      vm: task.vmId ? ref(this.href('vms', task.vmId), task.vmId) : undefined,
    };
  }

  /** The answer to an action: `complete`, `pending` or `failed`, with the task that carries it. */
  action(task: Task | undefined, status: 'complete' | 'pending' | 'failed', fault?: { reason: string; detail: string }): Rep {
    return {
      status,
      fault,
      task: task ? ref(this.href('tasks', task.id), task.id) : undefined,
      link: task ? [link(this.href('tasks', task.id), 'task')] : undefined,
    };
  }

  fault(error: Pick<ServiceError, 'reason' | 'detail'>): Rep {
    return { reason: error.reason, detail: error.detail };
  }

  api(summary: { hosts: { active: number; total: number }; vms: { active: number; total: number } }): Rep {
    const collections = ['clusters', 'datacenters', 'hosts', 'tasks', 'vms'];
    const searchable = ['clusters', 'datacenters', 'hosts', 'vms'];
    return {
      link: [
        ...collections.map((name) => link(this.href(name), name)),
        ...searchable.map((name) => link(`${this.href(name)}?search={query}`, `${name}/search`)),
      ],
      product_info: {
        instance_id: 'drover',
        name: 'Drover',
        vendor: 'The Drover project',
        version: { build: 0, full_version: droverVersion, major: 4, minor: 5, revision: 0 },
      },
      summary,
      time: this.time(Date.now()),
    };
  }
}
