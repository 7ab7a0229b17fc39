import type { FieldType } from './search-reference.js';
import { vmStatusSql } from '../rules/vm-status.js';
import { presentedHostStatusSql } from '../rules/host-admin.js';
import { jobStatusSql } from '../rules/jobs.js';

/**
 * The searchable, sortable and followable shape of every collection, in SQL
 * terms. A field is a SQL expression over the collection's table (aliased
 * `t`), or a relation to another table whose own field is compared; a link
 * is what `?follow=` can embed and how to find it.
 */

/** A field of the collection itself: a SQL expression over `t`. */
export interface ColumnField {
  kind: 'column';
  sql: string;
  type: FieldType;
}

/**
 * A field of a related object, compared through a subquery: the condition
 * holds when `key` is one of the ids `select` returns for the comparison on
 * `field` (a SQL expression over the subquery's tables). `nullable` keys make
 * `!=` match rows without a related object.
 */
export interface RelatedField {
  kind: 'related';
  key: string;
  select: string;
  field: string;
  type: FieldType;
  nullable: boolean;
}

export type Field = ColumnField | RelatedField;

/**
 * A link `?follow=` can embed. `one`: the object whose id `key` holds (a
 * column of the owner's row, read in SQL, or known in memory for VMs and
 * hosts). `many`: the objects `pairs` returns as (owner_id, id) for the given
 * owners, embedded as a collection element; `order` sorts them (`{C}` marks
 * where text takes the code-point collation, as in a collection's order).
 */
export type Link =
  | { kind: 'one'; target: ResourceName; key: string }
  | { kind: 'many'; target: ResourceName; pairs: string; ownerColumn: string; order: string };

export type ResourceName =
  | 'vm'
  | 'host'
  | 'cluster'
  | 'data_center'
  | 'storage_domain'
  | 'disk'
  | 'disk_attachment'
  | 'nic'
  | 'network'
  | 'vnic_profile'
  | 'mac_pool'
  | 'template'
  | 'vm_pool'
  | 'task'
  | 'event'
  | 'job';

/**
 * Names a request may use (search fields, attribute filters, sort fields,
 * follow links) with what each means. A request's name is looked up only
 * among the table's own names: a Map has no prototype names such as
 * `constructor`, `__proto__` or `toString` to find.
 */
export type NameTable<T> = ReadonlyMap<string, T>;

export const nameTable = <T>(entries: Record<string, T>): NameTable<T> => new Map(Object.entries(entries));

export interface Resource {
  name: ResourceName;
  /** The XML element of a collection of these (`vms`) and of one (`vm`). */
  collection: string;
  element: string;
  table: string;
  fields: NameTable<Field>;
  /** The order of a collection after the search's own (SQL; `{C}` marks where text takes the code-point collation); the id always ends it, so the order is stable. */
  defaultSort: string[];
  links: NameTable<Link>;
}

const text = (sql: string): ColumnField => ({ kind: 'column', sql, type: 'text' });
const number = (sql: string): ColumnField => ({ kind: 'column', sql, type: 'number' });
const boolean = (sql: string): ColumnField => ({ kind: 'column', sql, type: 'boolean' });
const byName = (key: string, table: string, nullable = false): RelatedField => ({ kind: 'related', key, select: `select r.id from ${table} r`, field: 'r.name', type: 'text', nullable });
/** A field compared with the names of the related objects that `select` (over `r`, the related table) pairs with each row's id. */
const namesOf = (select: string): RelatedField => ({ kind: 'related', key: 't.id', select, field: 'r.name', type: 'text', nullable: false });

/**
 * A related object's name under the field's own name (`cluster`) and as
 * oVirt's cross-reference searches write it, `OBJECT.name` with oVirt's
 * object names, singular and plural (`cluster.name`, `clusters.name`).
 */
const related = (name: string, objects: readonly string[], field: RelatedField): Record<string, RelatedField> => ({
  [name]: field,
  ...Object.fromEntries(objects.map((object) => [`${object}.name`, field])),
});

const clusterDataCenter: RelatedField = { kind: 'related', key: 't.cluster_id', select: 'select c.id from clusters c join data_centers r on r.id = c.data_center_id', field: 'r.name', type: 'text', nullable: false };

const vmStatus = vmStatusSql({
  powerState: 't.power_state',
  hostId: 't.host_id',
  hostStatus: '(select h.status from hosts h where h.id = t.host_id)',
  runningAction: "(select k.action from tasks k where k.vm_id = t.id and k.object_id = t.id and k.state = 'running' order by k.seq limit 1)",
  duplicateHostId: 't.duplicate_host_id',
});

const vmStorage: RelatedField = {
  kind: 'related',
  key: 't.id',
  select: 'select a.vm_id from disk_attachments a join disks d on d.id = a.disk_id join storage_domains r on r.id = d.storage_domain_id',
  field: 'r.name',
  type: 'text',
  nullable: false,
};

const vmNetwork: RelatedField = {
  kind: 'related',
  key: 't.id',
  select: 'select n.vm_id from nics n join vnic_profiles p on p.id = n.vnic_profile_id join networks r on r.id = p.network_id',
  field: 'r.name',
  type: 'text',
  nullable: false,
};

const diskVms = namesOf('select a.disk_id from disk_attachments a join vms r on r.id = a.vm_id');

/** A template's data center is its cluster's; a template of no cluster (Blank) is a template of every data center. */
const templateDataCenter = namesOf('select m.id from templates m left join clusters c on c.id = m.cluster_id join data_centers r on m.cluster_id is null or r.id = c.data_center_id');

/** Objects tagged with the tag whose name is compared, or with a tag below it (`tag_lineage` pairs a tag with each of its ancestors), as oVirt's search finds them. */
const taggedWith = (assignments: string, owner: string): RelatedField => ({
  kind: 'related',
  key: 't.id',
  select: `select m.${owner} from ${assignments} m join tag_lineage l on l.tag_id = m.tag_id join tags r on r.id = l.ancestor_id`,
  field: 'r.name',
  type: 'text',
  nullable: false,
});

const settings = {
  memory: number('t.memory_bytes'),
  'cpu.topology.sockets': number('t.cpu_sockets'),
  'cpu.topology.cores': number('t.cpu_cores'),
  'cpu.topology.threads': number('t.cpu_threads'),
  num_vcpus_allocated: number('(t.cpu_sockets * t.cpu_cores * t.cpu_threads)'),
  'os.type': text('t.os_type'),
  'display.type': text('t.display_type'),
};

const taskLinks = (): Record<string, Link> => ({
  tasks: { kind: 'many', target: 'task', pairs: 'select k.object_id as owner_id, k.id from tasks k', ownerColumn: 'k.object_id', order: 'k.seq desc' },
});

export const resources: Record<ResourceName, Resource> = {
  vm: {
    name: 'vm',
    collection: 'vms',
    element: 'vm',
    table: 'vms',
    fields: nameTable({
      id: text('t.id'),
      uuid: text('t.id'),
      name: text('t.name'),
      description: text('t.description'),
      status: text(vmStatus),
      ...settings,
      'high_availability.enabled': boolean('t.highly_available'),
      'high_availability.priority': number('t.high_availability_priority'),
      'placement_policy.affinity': text('t.migration_affinity'),
      creation_time: number('t.created_at'),
      ...related('cluster', ['cluster', 'clusters'], byName('t.cluster_id', 'clusters')),
      ...related('host', ['host', 'hosts'], byName('t.host_id', 'hosts', true)),
      ...related('template', ['template', 'templates'], byName('t.template_id', 'templates')),
      ...related('pool', ['pool', 'pools'], byName('t.vm_pool_id', 'vm_pools', true)),
      ...related('storage', ['storage', 'storages'], vmStorage),
      ...related('network', ['network', 'networks'], vmNetwork),
      ...related('datacenter', ['datacenter'], clusterDataCenter),
      tag: taggedWith('vm_tags', 'vm_id'),
    }),
    defaultSort: ['t.name{C}'],
    links: nameTable({
      cluster: { kind: 'one', target: 'cluster', key: 'clusterId' },
      host: { kind: 'one', target: 'host', key: 'hostId' },
      template: { kind: 'one', target: 'template', key: 'templateId' },
      vm_pool: { kind: 'one', target: 'vm_pool', key: 'vmPoolId' },
      disk_attachments: { kind: 'many', target: 'disk_attachment', pairs: 'select a.vm_id as owner_id, a.id from disk_attachments a', ownerColumn: 'a.vm_id', order: 'a.created_at, a.id{C}' },
      nics: { kind: 'many', target: 'nic', pairs: 'select n.vm_id as owner_id, n.id from nics n', ownerColumn: 'n.vm_id', order: 'n.name{C}, n.id{C}' },
      ...taskLinks(),
    }),
  },
  host: {
    name: 'host',
    collection: 'hosts',
    element: 'host',
    table: 'hosts',
    fields: nameTable({
      id: text('t.id'),
      name: text('t.name'),
      address: text('t.address'),
      status: text(presentedHostStatusSql({ status: 't.status', adminState: 't.admin_state' })),
      memory: number('t.memory_bytes'),
      'cpu.topology.cores': number('t.cpu_count'),
      'cpu.name': text('t.cpu_model'),
      type: text('t.hypervisor_type'),
      ...related('cluster', ['cluster', 'clusters'], byName('t.cluster_id', 'clusters')),
      ...related('datacenter', ['datacenter'], clusterDataCenter),
      ...related('vm', ['vm', 'vms'], namesOf('select r.host_id from vms r')),
      tag: taggedWith('host_tags', 'host_id'),
    }),
    defaultSort: ['t.name{C}'],
    links: nameTable({
      cluster: { kind: 'one', target: 'cluster', key: 'clusterId' },
      vms: { kind: 'many', target: 'vm', pairs: 'select v.host_id as owner_id, v.id from vms v', ownerColumn: 'v.host_id', order: 'v.name{C}, v.id{C}' },
      tasks: { kind: 'many', target: 'task', pairs: 'select k.host_id as owner_id, k.id from tasks k', ownerColumn: 'k.host_id', order: 'k.seq desc' },
    }),
  },
  cluster: {
    name: 'cluster',
    collection: 'clusters',
    element: 'cluster',
    table: 'clusters',
    fields: nameTable({
      id: text('t.id'),
      name: text('t.name'),
      description: text('t.description'),
      'cpu.architecture': text('t.cpu_architecture'),
      ...related('datacenter', ['datacenter'], byName('t.data_center_id', 'data_centers')),
      ...related('mac_pool', ['mac_pool'], byName('t.mac_pool_id', 'mac_pools')),
      ...related('host', ['host', 'hosts'], namesOf('select r.cluster_id from hosts r')),
      ...related('vm', ['vm', 'vms'], namesOf('select r.cluster_id from vms r')),
    }),
    defaultSort: ['t.name{C}'],
    links: nameTable({
      data_center: { kind: 'one', target: 'data_center', key: 'dataCenterId' },
      mac_pool: { kind: 'one', target: 'mac_pool', key: 'macPoolId' },
      hosts: { kind: 'many', target: 'host', pairs: 'select h.cluster_id as owner_id, h.id from hosts h', ownerColumn: 'h.cluster_id', order: 'h.name{C}, h.id{C}' },
      vms: { kind: 'many', target: 'vm', pairs: 'select v.cluster_id as owner_id, v.id from vms v', ownerColumn: 'v.cluster_id', order: 'v.name{C}, v.id{C}' },
    }),
  },
  data_center: {
    name: 'data_center',
    collection: 'data_centers',
    element: 'data_center',
    table: 'data_centers',
    fields: nameTable({
      id: text('t.id'),
      name: text('t.name'),
      description: text('t.description'),
      local: boolean('t.local'),
      ...related('cluster', ['cluster', 'clusters'], namesOf('select r.data_center_id from clusters r')),
      ...related('storage', ['storage', 'storages'], namesOf('select r.data_center_id from storage_domains r')),
      ...related('network', ['network', 'networks'], namesOf('select r.data_center_id from networks r')),
    }),
    defaultSort: ['t.name{C}'],
    links: nameTable({
      clusters: { kind: 'many', target: 'cluster', pairs: 'select c.data_center_id as owner_id, c.id from clusters c', ownerColumn: 'c.data_center_id', order: 'c.name{C}, c.id{C}' },
      networks: { kind: 'many', target: 'network', pairs: 'select w.data_center_id as owner_id, w.id from networks w', ownerColumn: 'w.data_center_id', order: 'w.name{C}, w.id{C}' },
      storage_domains: { kind: 'many', target: 'storage_domain', pairs: 'select s.data_center_id as owner_id, s.id from storage_domains s', ownerColumn: 's.data_center_id', order: 's.name{C}, s.id{C}' },
    }),
  },
  storage_domain: {
    name: 'storage_domain',
    collection: 'storage_domains',
    element: 'storage_domain',
    table: 'storage_domains',
    fields: nameTable({
      id: text('t.id'),
      name: text('t.name'),
      description: text('t.description'),
      status: text('t.status'),
      'storage.type': text('t.storage_type'),
      'storage.path': text('t.path'),
      'storage.address': text('t.address'),
      available: number('t.available_bytes'),
      used: number('t.used_bytes'),
      ...related('datacenter', ['datacenter'], byName('t.data_center_id', 'data_centers', true)),
      ...related('host', ['host', 'hosts'], byName('t.host_id', 'hosts', true)),
      ...related('cluster', ['cluster', 'clusters'], { kind: 'related', key: 't.data_center_id', select: 'select r.data_center_id from clusters r', field: 'r.name', type: 'text', nullable: true }),
    }),
    defaultSort: ['t.name{C}'],
    links: nameTable({
      data_center: { kind: 'one', target: 'data_center', key: 'dataCenterId' },
      host: { kind: 'one', target: 'host', key: 'hostId' },
      disks: { kind: 'many', target: 'disk', pairs: 'select d.storage_domain_id as owner_id, d.id from disks d', ownerColumn: 'd.storage_domain_id', order: 'd.name{C}, d.id{C}' },
      vms: {
        kind: 'many',
        target: 'vm',
        pairs: 'select distinct d.storage_domain_id as owner_id, v.id from disks d join disk_attachments a on a.disk_id = d.id join vms v on v.id = a.vm_id',
        ownerColumn: 'd.storage_domain_id',
        order: 'v.id',
      },
      templates: {
        kind: 'many',
        target: 'template',
        pairs: 'select d.storage_domain_id as owner_id, m.id from templates m join (select distinct storage_domain_id, template_id from disks) d on d.template_id = m.id',
        ownerColumn: 'd.storage_domain_id',
        order: 'm.name{C}, m.id{C}',
      },
      ...taskLinks(),
    }),
  },
  disk: {
    name: 'disk',
    collection: 'disks',
    element: 'disk',
    table: 'disks',
    fields: nameTable({
      id: text('t.id'),
      name: text('t.name'),
      alias: text('t.name'),
      description: text('t.description'),
      status: text('t.status'),
      format: text('t.format'),
      sparse: boolean('t.sparse'),
      provisioned_size: number('t.provisioned_size'),
      actual_size: number('t.actual_size'),
      ...related('storage', ['storage', 'storages'], byName('t.storage_domain_id', 'storage_domains')),
      ...related('vm', ['vm', 'vms'], diskVms),
      vm_names: diskVms,
      ...related('datacenter', ['datacenter'], { kind: 'related', key: 't.storage_domain_id', select: 'select s.id from storage_domains s join data_centers r on r.id = s.data_center_id', field: 'r.name', type: 'text', nullable: false }),
    }),
    defaultSort: ['t.name{C}'],
    links: nameTable({
      storage_domains: { kind: 'one', target: 'storage_domain', key: 'storageDomainId' },
      vms: { kind: 'many', target: 'vm', pairs: 'select a.disk_id as owner_id, v.id from disk_attachments a join vms v on v.id = a.vm_id', ownerColumn: 'a.disk_id', order: 'v.name{C}, v.id{C}' },
      ...taskLinks(),
    }),
  },
  disk_attachment: {
    name: 'disk_attachment',
    collection: 'disk_attachments',
    element: 'disk_attachment',
    table: 'disk_attachments',
    fields: nameTable({
      id: text('t.id'),
      interface: text('t.disk_interface'),
      bootable: boolean('t.bootable'),
      active: boolean('t.active'),
      read_only: boolean('t.read_only'),
    }),
    defaultSort: ['t.created_at'],
    links: nameTable({
      disk: { kind: 'one', target: 'disk', key: 'diskId' },
      vm: { kind: 'one', target: 'vm', key: 'vmId' },
      template: { kind: 'one', target: 'template', key: 'templateId' },
    }),
  },
  nic: {
    name: 'nic',
    collection: 'nics',
    element: 'nic',
    table: 'nics',
    fields: nameTable({ id: text('t.id'), name: text('t.name'), interface: text('t.nic_interface'), 'mac.address': text('t.mac'), linked: boolean('t.linked'), plugged: boolean('t.plugged') }),
    defaultSort: ['t.name{C}'],
    links: nameTable({
      vnic_profile: { kind: 'one', target: 'vnic_profile', key: 'vnicProfileId' },
      vm: { kind: 'one', target: 'vm', key: 'vmId' },
      template: { kind: 'one', target: 'template', key: 'templateId' },
    }),
  },
  network: {
    name: 'network',
    collection: 'networks',
    element: 'network',
    table: 'networks',
    fields: nameTable({
      id: text('t.id'),
      name: text('t.name'),
      description: text('t.description'),
      'vlan.id': number('t.vlan_id'),
      mtu: number('t.mtu'),
      ...related('datacenter', ['datacenter'], byName('t.data_center_id', 'data_centers')),
    }),
    defaultSort: ['t.name{C}'],
    links: nameTable({
      data_center: { kind: 'one', target: 'data_center', key: 'dataCenterId' },
      vnic_profiles: { kind: 'many', target: 'vnic_profile', pairs: 'select p.network_id as owner_id, p.id from vnic_profiles p', ownerColumn: 'p.network_id', order: 'p.name{C}, p.id{C}' },
      vms: {
        kind: 'many',
        target: 'vm',
        pairs: 'select distinct p.network_id as owner_id, v.id from vnic_profiles p join nics n on n.vnic_profile_id = p.id join vms v on v.id = n.vm_id',
        ownerColumn: 'p.network_id',
        order: 'v.id',
      },
    }),
  },
  vnic_profile: {
    name: 'vnic_profile',
    collection: 'vnic_profiles',
    element: 'vnic_profile',
    table: 'vnic_profiles',
    fields: nameTable({ id: text('t.id'), name: text('t.name'), description: text('t.description'), ...related('network', ['network', 'networks'], byName('t.network_id', 'networks')) }),
    defaultSort: ['t.name{C}'],
    links: nameTable({ network: { kind: 'one', target: 'network', key: 'networkId' } }),
  },
  mac_pool: {
    name: 'mac_pool',
    collection: 'mac_pools',
    element: 'mac_pool',
    table: 'mac_pools',
    fields: nameTable({ id: text('t.id'), name: text('t.name'), description: text('t.description'), default_pool: boolean('t.default_pool') }),
    defaultSort: ['t.name{C}'],
    links: nameTable({}),
  },
  template: {
    name: 'template',
    collection: 'templates',
    element: 'template',
    table: 'templates',
    fields: nameTable({
      id: text('t.id'),
      name: text('t.name'),
      description: text('t.description'),
      status: text('t.status'),
      ...settings,
      creation_time: number('t.created_at'),
      ...related('cluster', ['cluster', 'clusters'], byName('t.cluster_id', 'clusters', true)),
      ...related('storage', ['storage', 'storages'], namesOf('select d.template_id from disks d join storage_domains r on r.id = d.storage_domain_id')),
      ...related('datacenter', ['datacenter'], templateDataCenter),
      ...related('vm', ['vm', 'vms'], namesOf('select r.template_id from vms r')),
      tag: taggedWith('template_tags', 'template_id'),
    }),
    defaultSort: ['t.name{C}'],
    links: nameTable({
      cluster: { kind: 'one', target: 'cluster', key: 'clusterId' },
      vms: { kind: 'many', target: 'vm', pairs: 'select v.template_id as owner_id, v.id from vms v', ownerColumn: 'v.template_id', order: 'v.name{C}, v.id{C}' },
      disk_attachments: { kind: 'many', target: 'disk_attachment', pairs: 'select a.template_id as owner_id, a.id from disk_attachments a', ownerColumn: 'a.template_id', order: 'a.created_at, a.id{C}' },
      nics: { kind: 'many', target: 'nic', pairs: 'select n.template_id as owner_id, n.id from nics n', ownerColumn: 'n.template_id', order: 'n.name{C}, n.id{C}' },
      ...taskLinks(),
    }),
  },
  vm_pool: {
    name: 'vm_pool',
    collection: 'vm_pools',
    element: 'vm_pool',
    table: 'vm_pools',
    fields: nameTable({
      id: text('t.id'),
      name: text('t.name'),
      description: text('t.description'),
      size: number('t.size'),
      prestarted_vms: number('t.prestarted_vms'),
      max_user_vms: number('t.max_user_vms'),
      type: text('t.pool_type'),
      ...related('cluster', ['cluster', 'clusters'], byName('t.cluster_id', 'clusters')),
      ...related('template', ['template', 'templates'], byName('t.template_id', 'templates')),
      ...related('datacenter', ['datacenter'], clusterDataCenter),
    }),
    defaultSort: ['t.name{C}'],
    links: nameTable({
      cluster: { kind: 'one', target: 'cluster', key: 'clusterId' },
      template: { kind: 'one', target: 'template', key: 'templateId' },
      vms: { kind: 'many', target: 'vm', pairs: 'select v.vm_pool_id as owner_id, v.id from vms v', ownerColumn: 'v.vm_pool_id', order: 'v.name{C}, v.id{C}' },
      ...taskLinks(),
    }),
  },
  task: {
    name: 'task',
    collection: 'tasks',
    element: 'task',
    table: 'tasks',
    fields: nameTable({
      id: text('t.id'),
      action: text('t.action'),
      status: text('t.state'),
      object_type: text('t.object_type'),
      correlation_id: text('t.correlation_id'),
      creation_time: number('t.created_at'),
      vm: byName('t.vm_id', 'vms', true),
      host: byName('t.host_id', 'hosts', true),
    }),
    defaultSort: ['t.seq desc'],
    links: nameTable({
      vm: { kind: 'one', target: 'vm', key: 'vmId' },
      host: { kind: 'one', target: 'host', key: 'hostId' },
    }),
  },
  event: {
    name: 'event',
    collection: 'events',
    element: 'event',
    table: 'events',
    fields: nameTable({
      id: number('t.id'),
      type: number('t.code'),
      code: number('t.code'),
      severity: text('t.severity'),
      message: text('t.description'),
      description: text('t.description'),
      time: number('t.time'),
      correlation_id: text('t.correlation_id'),
      origin: text('t.origin'),
      custom_event_id: number('t.custom_id'),
      custom_id: number('t.custom_id'),
      usrname: text('t.user_name'),
      'user.name': text('t.user_name'),
      event_vm: text('t.vm_name'),
      'vm.name': text('t.vm_name'),
      'vm.id': text('t.vm_id'),
      event_host: text('t.host_name'),
      'host.name': text('t.host_name'),
      'host.id': text('t.host_id'),
      ...related('event_cluster', ['cluster', 'clusters'], byName('t.cluster_id', 'clusters', true)),
      ...related('event_datacenter', ['datacenter', 'datacenters'], byName('t.data_center_id', 'data_centers', true)),
      ...related('event_storage', ['storage', 'storages'], byName('t.storage_domain_id', 'storage_domains', true)),
      ...related('event_template', ['template', 'templates'], byName('t.template_id', 'templates', true)),
      object_type: text('t.object_type'),
      object_id: text('t.object_id'),
      change: text('t.change'),
    }),
    defaultSort: ['t.id desc'],
    links: nameTable({
      vm: { kind: 'one', target: 'vm', key: 'vmId' },
      host: { kind: 'one', target: 'host', key: 'hostId' },
      cluster: { kind: 'one', target: 'cluster', key: 'clusterId' },
      data_center: { kind: 'one', target: 'data_center', key: 'dataCenterId' },
      storage_domain: { kind: 'one', target: 'storage_domain', key: 'storageDomainId' },
      template: { kind: 'one', target: 'template', key: 'templateId' },
    }),
  },
  job: {
    name: 'job',
    collection: 'jobs',
    element: 'job',
    table: 'jobs',
    fields: nameTable({
      id: text('t.id'),
      correlation_id: text('t.correlation_id'),
      status: text(jobStatusSql('t')),
      description: text('t.description'),
      external: boolean('t.external'),
      auto_cleared: boolean('t.auto_cleared'),
      start_time: number('t.start_time'),
    }),
    defaultSort: ['t.start_time desc'],
    links: nameTable({}),
  },
};

/** The search field names of a resource, for messages. */
export function fieldNames(resource: Resource): string[] {
  return [...resource.fields.keys()].sort();
}

/** The names of the links `?follow=` can take from a resource's objects, for messages. */
export function linkNames(resource: Resource): string[] {
  return [...resource.links.keys()].sort();
}
