import { createHash } from 'node:crypto';
import type { MigrationProgress } from '../../../shared/model.js';
import { migrationPercent } from '../../rules/migration.js';
import type { AuditEvent, Cluster, DataCenter, DiskAttachment, Host, HostEnrollmentToken, MacPool, Network, Nic, Task, Template, Vm, VmPool, VnicProfile } from '../../db/entities.js';
import type { VmView } from '../../services/vms.js';
import type { JobView, StepView } from '../../services/jobs.js';
import type { StorageDomainView } from '../../services/storage-domains.js';
import type { DiskView } from '../../services/disks.js';
import { rangesOf } from '../../rules/mac-addresses.js';
import type { ServiceError } from '../../rules/errors.js';
import { apiVmActions } from '../../rules/vm-actions.js';
import { droverVersion } from '../../../shared/version.js';
import { Instant, link, ref, type Rep } from './representation.js';
import { RenderedDocuments, RenderedParts } from './rendered.js';
import { linkRels } from '../collections.js';
import { bootDevicesOf } from '../../rules/cdrom.js';
import type { CdromView, IsoFileView } from '../../services/cdroms.js';
import type { ConsoleView } from '../../services/consoles.js';
import { consoleIds } from '../../rules/consoles.js';
import { guestHardware, initializationRep } from './guest-config.js';
import { hostActions, presentedHostStatus } from '../../rules/host-admin.js';
import { activeSnapshotId } from './snapshots.js';

/**
 * Text Drover has no value for, left out rather than written empty (oVirt omits unset values too):
 * libgovirt asserts on an empty `<description>` ("desc_node->content != NULL"), open and closed or not.
 */
const nonEmpty = (value: string | null | undefined): string | undefined => (value ? value : undefined);

/**
 * The comment of a VM or template: Drover keeps none (the input takes only an empty one), and shows it
 * empty, as oVirt does, since go-ovirt-client fails on a VM without one. A template's description is
 * shown even when empty (go-ovirt-client needs it); a VM's is not, since libgovirt, which reads VMs but not
 * templates, refuses an empty one.
 */
const noComment = '';

/**
 * A host's SPM priority: -1, oVirt's "never SPM". Drover has no storage pool
 * manager, so no host ever becomes one (its SPM status is `none`).
 */
const neverSpm = -1;

/**
 * The settings of a VM or template that Drover does not let a client change,
 * at the values Drover implements (the values vm-fields.ts accepts on input):
 * a serial console, all of the memory reserved and none hot-pluggable, a
 * balloon device, no I/O threads or CPU shares, no USB, sound card or single
 * sign-on, no delete protection. oVirt's clients read these (Ansible's
 * ovirt_vm compares `memory_policy`, `io`, `usb` and `sso` of every VM it
 * manages; go-ovirt-client needs `memory_policy` and warns without `console`).
 */
function fixedVmSettings(memoryBytes: number): Rep {
  return {
    console: { enabled: true },
    cpu_shares: 0,
    delete_protected: false,
    io: { threads: 0 },
    memory_policy: { ballooning: true, guaranteed: memoryBytes, max: memoryBytes },
    soundcard_enabled: false,
    sso: {},
    usb: { enabled: false },
  };
}

const taskObjectElement: Record<Task['objectType'], string> = { vm: 'vm', disk: 'disk', storage_domain: 'storage_domain', template: 'template', vm_pool: 'vm_pool', host: 'host' };
const taskObjectCollection: Record<Task['objectType'], string> = { vm: 'vms', disk: 'disks', storage_domain: 'storagedomains', template: 'templates', vm_pool: 'vmpools', host: 'hosts' };

/** Builds the representation of each kind of object; `base` is the API prefix the client used. */
export class Presenter {
  /** Rendered documents of entities, reused while their version is unchanged. */
  readonly rendered = new RenderedDocuments();
  /** Rendered embedded objects, reused while their version is unchanged. */
  readonly parts = new RenderedParts();

  constructor(readonly base: string) {}

  /** Counts a host's VMs for its `summary`, when the presenter was given a way to. */
  hostSummary?: (hostId: string) => { active: number; total: number };
  /** The progress of the VM's migration in progress, if one is. */
  migrationProgress?: (vmId: string) => MigrationProgress | undefined;

  /** One `<link rel>` per sub-collection of an object of the collection. */
  links(href: string, collection: string): Rep[] {
    return linkRels(collection).map((rel) => link(`${href}/${rel}`, rel));
  }

  href(...path: string[]): string {
    return [this.base, ...path].join('/');
  }

  /** A point in time, which the writer renders as each media type wants it (see Instant). */
  time(epochMs: number | null | undefined): Instant | undefined {
    return epochMs == null ? undefined : new Instant(epochMs);
  }

  dataCenter(dc: DataCenter): Rep {
    const href = this.href('datacenters', dc.id);
    return {
      $: { href, id: dc.id },
      name: dc.name,
      description: nonEmpty(dc.description),
      link: this.links(href, 'datacenters'),
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
      link: this.links(href, 'clusters'),
      cpu: { architecture: cluster.cpuArchitecture },
      version: { major: 4, minor: 7 },
      data_center: ref(this.href('datacenters', cluster.dataCenterId), cluster.dataCenterId),
      mac_pool: cluster.macPoolId ? ref(this.href('macpools', cluster.macPoolId), cluster.macPoolId) : undefined,
    };
  }

  /** A host; `allContent` adds its `summary`, the counts of its VMs, which takes a pass over them. */
  host(host: Host, allContent = false): Rep {
    const href = this.href('hosts', host.id);
    const [major, minor, build] = host.libvirtVersion.split('.');
    return {
      $: { href, id: host.id },
      actions: { link: hostActions.map((action) => link(`${href}/${action}`, action)) },
      name: host.name,
      link: this.links(href, 'hosts'),
      address: host.address,
      cpu: { name: host.cpuModel, topology: { sockets: 1, cores: host.cpuCount, threads: 1 } },
      libvirt_version: host.libvirtVersion ? { build, full_version: `libvirt-${host.libvirtVersion}`, major, minor } : undefined,
      hypervisor: this.hypervisor(host),
      memory: host.memoryBytes,
      os: { custom_kernel_cmdline: '' },
      power_management: { enabled: false, kdump_detection: false },
      spm: { priority: neverSpm, status: 'none' },
      status: presentedHostStatus(host),
      status_detail: nonEmpty(host.statusDetail),
      summary: allContent && this.hostSummary ? this.hostSummary(host.id) : undefined,
      type: 'rhel',
      version: { full_version: `drover-agent-${host.agentVersion}` },
      cluster: ref(this.href('clusters', host.clusterId), host.clusterId),
    };
  }

  /** Drover's own element: the hypervisor the host's guests run on, its version, and whether they have hardware virtualization (KVM) or are emulated. */
  private hypervisor(host: Host): Rep | undefined {
    if (!host.hypervisorType) return undefined;
    const [major, minor, build] = host.hypervisorVersion.split('.');
    return {
      type: host.hypervisorType.toLowerCase(),
      version: host.hypervisorVersion ? { build, full_version: `${host.hypervisorType.toLowerCase()}-${host.hypervisorVersion}`, major, minor } : undefined,
      domain_type: host.domainType || undefined,
      kvm: host.domainType === 'kvm',
    };
  }

  vm({ vm, status }: VmView): Rep {
    const href = this.href('vms', vm.id);
    return {
      $: { href, id: vm.id },
      actions: { link: [...apiVmActions, 'migrate', 'cancelmigration'].map((action) => link(`${href}/${action}`, action)) },
      name: vm.name,
      description: nonEmpty(vm.description),
      comment: noComment,
      link: this.links(href, 'vms'),
      ...guestHardware(vm),
      cpu: { architecture: 'x86_64', mode: vm.cpuMode ?? undefined, topology: { cores: vm.cpuCores, sockets: vm.cpuSockets, threads: vm.cpuThreads } },
      creation_time: this.time(vm.createdAt),
      display: { type: vm.displayType },
      high_availability: { enabled: vm.highlyAvailable, priority: vm.highAvailabilityPriority },
      initialization: initializationRep(vm.initialization),
      memory: vm.memoryBytes,
      ...fixedVmSettings(vm.memoryBytes),
      os: { boot: { devices: { device: bootDevicesOf(vm.bootDevices) } }, type: vm.osType },
      placement_policy: { affinity: vm.migrationAffinity },
      start_paused: false,
      stateless: false,
      status,
      status_detail: vm.hostId && vm.duplicateHostId ? `active on two hosts at once: its host and host ${vm.duplicateHostId}` : undefined,
      type: 'server',
      use_latest_template_version: false,
      cluster: ref(this.href('clusters', vm.clusterId), vm.clusterId),
      host: vm.hostId ? ref(this.href('hosts', vm.hostId), vm.hostId) : undefined,
      template: ref(this.href('templates', vm.templateId), vm.templateId),
      vm_pool: vm.vmPoolId ? ref(this.href('vmpools', vm.vmPoolId), vm.vmPoolId) : undefined,
    };
  }

  /**
   * A VM's active snapshot, the only snapshot a Drover VM has: its current
   * configuration and disks, dated from the VM's creation.
   */
  activeSnapshot(vm: Vm): Rep {
    const id = activeSnapshotId(vm.id);
    return {
      $: { href: this.href('vms', vm.id, 'snapshots', id), id },
      description: 'Active VM',
      date: this.time(vm.createdAt),
      persist_memorystate: false,
      snapshot_status: 'ok',
      snapshot_type: 'active',
      vm: ref(this.href('vms', vm.id), vm.id),
    };
  }

  /** A VM's graphics console; its address and ports only when the running console was asked for (`?current=true`). */
  graphicsConsole(console: ConsoleView): Rep {
    const id = consoleIds[console.protocol];
    const href = this.href('vms', console.vmId, 'graphicsconsoles', id);
    return {
      $: { href, id },
      actions: { link: ['remoteviewerconnectionfile', 'ticket'].map((action) => link(`${href}/${action}`, action)) },
      address: console.live?.address,
      port: console.live?.port || undefined,
      protocol: console.protocol,
      tls_port: console.live?.tlsPort || undefined,
      vm: ref(this.href('vms', console.vmId), console.vmId),
    };
  }

  /** A storage domain; in a data center's context (`/datacenters/{id}/storagedomains/{id}`) its href and actions live there. */
  /** A storage domain; `allContent` adds `committed`, the sum of its disks' sizes, which takes an aggregate over its disks. */
  storageDomain({ domain, committedBytes }: StorageDomainView, status: string, inDataCenter?: string, allContent = false): Rep {
    const href = inDataCenter ? this.href('datacenters', inDataCenter, 'storagedomains', domain.id) : this.href('storagedomains', domain.id);
    const own = this.href('storagedomains', domain.id);
    return {
      $: { href, id: domain.id },
      actions: domain.dataCenterId ? { link: ['activate', 'deactivate'].map((action) => link(`${href}/${action}`, action)) } : undefined,
      name: domain.name,
      description: nonEmpty(domain.description),
      link: this.links(own, 'storagedomains'),
      available: domain.availableBytes ?? undefined,
      committed: allContent ? committedBytes : undefined,
      external_status: 'ok',
      master: false,
      status,
      storage: { address: nonEmpty(domain.address), path: domain.path, type: domain.storageType },
      storage_format: 'v5',
      type: 'data',
      used: domain.usedBytes ?? undefined,
      data_center: inDataCenter ? ref(this.href('datacenters', inDataCenter), inDataCenter) : undefined,
      data_centers: domain.dataCenterId ? { data_center: [ref(this.href('datacenters', domain.dataCenterId), domain.dataCenterId)] } : undefined,
      host: domain.hostId ? ref(this.href('hosts', domain.hostId), domain.hostId) : undefined,
    };
  }

  disk({ disk }: DiskView): Rep {
    const href = this.href('disks', disk.id);
    return {
      $: { href, id: disk.id },
      name: disk.name,
      description: nonEmpty(disk.description),
      link: this.links(href, 'disks'),
      actual_size: disk.actualSize,
      alias: disk.name,
      content_type: 'data',
      format: disk.format,
      image_id: disk.id,
      propagate_errors: false,
      provisioned_size: disk.provisionedSize,
      shareable: false,
      sparse: disk.sparse,
      status: disk.status,
      storage_type: 'image',
      total_size: disk.actualSize,
      wipe_after_delete: false,
      storage_domains: { storage_domain: [ref(this.href('storagedomains', disk.storageDomainId), disk.storageDomainId)] },
    };
  }

  diskAttachment(attachment: DiskAttachment): Rep {
    const owner = attachment.vmId ? ['vms', attachment.vmId] : ['templates', attachment.templateId!];
    const href = this.href(...owner, 'diskattachments', attachment.diskId);
    return {
      $: { href, id: attachment.diskId },
      active: attachment.active,
      bootable: attachment.bootable,
      interface: attachment.diskInterface,
      pass_discard: false,
      read_only: attachment.readOnly,
      uses_scsi_reservation: false,
      disk: ref(this.href('disks', attachment.diskId), attachment.diskId),
      vm: attachment.vmId ? ref(this.href('vms', attachment.vmId), attachment.vmId) : undefined,
      template: attachment.templateId ? ref(this.href('templates', attachment.templateId), attachment.templateId) : undefined,
    };
  }

  network(network: Network): Rep {
    const href = this.href('networks', network.id);
    return {
      $: { href, id: network.id },
      name: network.name,
      description: nonEmpty(network.description),
      link: this.links(href, 'networks'),
      mtu: network.mtu,
      stp: false,
      usages: { usage: ['vm'] },
      vlan: network.vlanId === null ? undefined : { $: { id: String(network.vlanId) } },
      data_center: ref(this.href('datacenters', network.dataCenterId), network.dataCenterId),
    };
  }

  vnicProfile(profile: VnicProfile): Rep {
    const href = this.href('vnicprofiles', profile.id);
    return {
      $: { href, id: profile.id },
      name: profile.name,
      description: nonEmpty(profile.description),
      link: this.links(href, 'vnicprofiles'),
      pass_through: { mode: 'disabled' },
      port_mirroring: profile.portMirroring,
      network: ref(this.href('networks', profile.networkId), profile.networkId),
    };
  }

  nic(nic: Nic): Rep {
    const owner = nic.vmId ? ['vms', nic.vmId] : ['templates', nic.templateId!];
    return {
      $: { href: this.href(...owner, 'nics', nic.id), id: nic.id },
      name: nic.name,
      interface: nic.nicInterface,
      linked: nic.linked,
      mac: nic.mac ? { address: nic.mac } : undefined,
      plugged: nic.plugged,
      vnic_profile: nic.vnicProfileId ? ref(this.href('vnicprofiles', nic.vnicProfileId), nic.vnicProfileId) : undefined,
      vm: nic.vmId ? ref(this.href('vms', nic.vmId), nic.vmId) : undefined,
      template: nic.templateId ? ref(this.href('templates', nic.templateId), nic.templateId) : undefined,
    };
  }

  /** A VM's CD-ROM drive; `<file id>` names the ISO file it holds (none when empty). */
  cdrom({ vmId, medium }: CdromView, id: string): Rep {
    return {
      $: { href: this.href('vms', vmId, 'cdroms', id), id },
      file: medium
        ? { $: { id: medium.fileName }, storage_domain: medium.storageDomainId ? ref(this.href('storagedomains', medium.storageDomainId), medium.storageDomainId) : undefined }
        : undefined,
      vm: ref(this.href('vms', vmId), vmId),
    };
  }

  /** A file of a storage domain's ISO directory; its id is its name, as in oVirt. */
  isoFile({ storageDomainId, file }: IsoFileView): Rep {
    return {
      $: { href: this.href('storagedomains', storageDomainId, 'files', file.name), id: file.name },
      name: file.name,
      type: 'iso',
      storage_domain: ref(this.href('storagedomains', storageDomainId), storageDomainId),
    };
  }

  macPool(pool: MacPool): Rep {
    const href = this.href('macpools', pool.id);
    return {
      $: { href, id: pool.id },
      name: pool.name,
      description: nonEmpty(pool.description),
      link: this.links(href, 'macpools'),
      allow_duplicates: pool.allowDuplicates,
      default_pool: pool.defaultPool,
      ranges: { range: rangesOf(pool).map((range) => ({ from: range.from, to: range.to })) },
    };
  }

  template(template: Template): Rep {
    const href = this.href('templates', template.id);
    return {
      $: { href, id: template.id },
      name: template.name,
      description: template.description,
      comment: noComment,
      link: this.links(href, 'templates'),
      ...guestHardware(template),
      cpu: { architecture: 'x86_64', mode: template.cpuMode ?? undefined, topology: { cores: template.cpuCores, sockets: template.cpuSockets, threads: template.cpuThreads } },
      creation_time: this.time(template.createdAt),
      display: { type: template.displayType },
      memory: template.memoryBytes,
      ...fixedVmSettings(template.memoryBytes),
      os: { type: template.osType },
      status: template.status,
      type: 'server',
      version: { version_name: 'base version', version_number: 1, base_template: ref(href, template.id) },
      cluster: template.clusterId ? ref(this.href('clusters', template.clusterId), template.clusterId) : undefined,
    };
  }

  vmPool(pool: VmPool): Rep {
    const href = this.href('vmpools', pool.id);
    return {
      $: { href, id: pool.id },
      actions: { link: [link(`${href}/allocatevm`, 'allocatevm')] },
      name: pool.name,
      description: nonEmpty(pool.description),
      link: this.links(href, 'vmpools'),
      max_user_vms: pool.maxUserVms,
      prestarted_vms: pool.prestartedVms,
      size: pool.size,
      stateful: false,
      type: pool.poolType,
      cluster: ref(this.href('clusters', pool.clusterId), pool.clusterId),
      template: ref(this.href('templates', pool.templateId), pool.templateId),
    };
  }

  task(task: Task): Rep {
    const href = this.href('tasks', task.id);
    return {
      $: { href, id: task.id },
      action: task.action,
      description: task.description ?? undefined,
      status: task.state,
      correlation_id: task.correlationId ?? undefined,
      creation_time: this.time(task.createdAt),
      start_time: this.time(task.startedAt),
      end_time: this.time(task.endedAt),
      fault: task.errorReason ? { reason: task.errorReason, detail: task.errorDetail ?? '' } : undefined,
      ...this.taskProgress(task),
      host: task.hostId ? ref(this.href('hosts', task.hostId), task.hostId) : undefined,
      vm: task.vmId ? ref(this.href('vms', task.vmId), task.vmId) : undefined,
      ...(task.objectType === 'vm' ? {} : { [taskObjectElement[task.objectType]]: ref(this.href(taskObjectCollection[task.objectType], task.objectId), task.objectId) }),
    };
  }

  /**
   * An audit log entry, as oVirt writes its events, with Drover's own
   * elements for what it is about and what changed (`object_type`,
   * `object_id`, `change`, `status`).
   */
  event(event: AuditEvent): Rep {
    const link = (collection: string, id: string | null) => (id ? ref(this.href(collection, id), id) : undefined);
    return {
      $: { href: this.href('events', String(event.id)), id: String(event.id) },
      description: event.description,
      code: event.code,
      correlation_id: event.correlationId ?? undefined,
      custom_id: event.customId ?? undefined,
      flood_rate: 0,
      index: event.id,
      origin: event.origin === 'drover' ? 'oVirt' : event.origin,
      severity: event.severity,
      time: this.time(event.time),
      object_type: event.objectType ?? undefined,
      object_id: event.objectId ?? undefined,
      change: event.change ?? undefined,
      status: event.status ?? undefined,
      cluster: link('clusters', event.clusterId),
      data_center: link('datacenters', event.dataCenterId),
      host: link('hosts', event.hostId),
      storage_domain: link('storagedomains', event.storageDomainId),
      template: link('templates', event.templateId),
      user: event.userId ? { ...ref(this.href('users', event.userId), event.userId), ...(event.userName ? { user_name: event.userName } : {}) } : undefined,
      vm: link('vms', event.vmId),
    };
  }

  /** A job, as oVirt shows one: what a request set in motion, or an external job; its steps are below it. */
  job({ job, status, endTime, lastUpdated }: JobView): Rep {
    const href = this.href('jobs', job.id);
    return {
      $: { href, id: job.id },
      actions: { link: [link(`${href}/clear`, 'clear'), link(`${href}/end`, 'end')] },
      description: nonEmpty(job.description),
      link: [link(`${href}/steps`, 'steps')],
      auto_cleared: job.autoCleared,
      correlation_id: job.correlationId,
      end_time: this.time(endTime),
      external: job.external,
      last_updated: this.time(lastUpdated),
      start_time: this.time(job.startTime),
      status,
      owner: job.ownerId ? ref(this.href('users', job.ownerId), job.ownerId) : undefined,
    };
  }

  /** A step of a job: one of its tasks, or a step an external system added. */
  step(step: StepView): Rep {
    const href = this.href('jobs', step.jobId, 'steps', step.id);
    return {
      $: { href, id: step.id },
      actions: { link: [link(`${href}/end`, 'end')] },
      description: nonEmpty(step.description),
      end_time: this.time(step.endTime),
      external: step.external,
      number: step.number,
      start_time: this.time(step.startTime),
      status: step.status,
      type: step.type,
      job: ref(this.href('jobs', step.jobId), step.jobId),
      task: step.taskId ? ref(this.href('tasks', step.taskId), step.taskId) : undefined,
    };
  }

  /** The progress of a migrate task that runs: the share of its data sent, in percent, and how much is left. */
  private taskProgress(task: Task): Rep {
    if (task.action !== 'migrate' || task.state !== 'running' || !task.vmId) return {};
    const progress = this.migrationProgress?.(task.vmId);
    if (!progress) return {};
    return { progress: migrationPercent(progress), data_remaining: progress.dataRemainingBytes, data_total: progress.dataTotalBytes };
  }

  /** A VM's statistics, as oVirt names them: its memory, and the progress of its migration in percent (0 when none runs). */
  vmStatistics({ vm }: VmView, migration: MigrationProgress | undefined): Rep {
    const vmRef = ref(this.href('vms', vm.id), vm.id);
    const statistic = (name: string, description: string, unit: string, datum: number) => ({
      $: { id: createHash('sha1').update(`${vm.id}:${name}`).digest('hex') },
      name,
      description,
      kind: 'gauge',
      type: 'integer',
      unit,
      values: { value: [{ datum }] },
      vm: vmRef,
    });
    return {
      statistic: [
        statistic('memory.installed', 'Total memory configured', 'bytes', vm.memoryBytes),
        statistic('migration.progress', 'Migration progress', 'percent', migrationPercent(migration)),
      ],
    };
  }

  /** An enrollment token; its secret only when it was just created, the one time it is shown. */
  hostEnrollmentToken(token: HostEnrollmentToken, secret?: string): Rep {
    return {
      $: { href: this.href('hostenrollmenttokens', token.id), id: token.id },
      description: nonEmpty(token.description),
      token: secret,
      creation_time: this.time(token.createdAt),
      expiration_time: this.time(token.expiresAt),
      used: token.usedAt !== null,
      used_time: this.time(token.usedAt),
      host: token.hostId ? ref(this.href('hosts', token.hostId), token.hostId) : undefined,
    };
  }

  /** The answer to an action: `complete`, `pending` or `failed`, with the task that carries it. */
  action(task: Task | undefined, status: 'complete' | 'pending' | 'failed', fault?: { reason: string; detail: string }): Rep {
    return {
      status,
      description: task?.description ?? undefined,
      fault,
      job: task?.jobId ? ref(this.href('jobs', task.jobId), task.jobId) : undefined,
      task: task ? ref(this.href('tasks', task.id), task.id) : undefined,
      link: task ? [link(this.href('tasks', task.id), 'task')] : undefined,
    };
  }

  fault(error: Pick<ServiceError, 'reason' | 'detail'>): Rep {
    return { reason: error.reason, detail: error.detail };
  }

  /** The API root: links to the collections, the user the request authenticated as, and, for administrators, the summary. */
  api(summary: { hosts: { active: number; total: number }; vms: { active: number; total: number } } | undefined, userId: string): Rep {
    const collections = ['clusters', 'datacenters', 'disks', 'events', 'hosts', 'macpools', 'networks', 'storagedomains', 'tasks', 'templates', 'vmpools', 'vms', 'vnicprofiles'];
    const searchable = collections.filter((name) => name !== 'tasks');
    const access = ['domains', 'groups', 'permissions', 'roles', 'tags', 'users'];
    return {
      link: [
        ...[...collections, ...access].map((name) => link(this.href(name), name)),
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
      authenticated_user: ref(this.href('users', userId), userId),
      effective_user: ref(this.href('users', userId), userId),
    };
  }
}
