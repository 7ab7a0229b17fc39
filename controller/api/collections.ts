import { nameTable, type NameTable, type ResourceName } from '../query/catalog.js';
import type { GuardedObject } from '../services/authorization.js';

/**
 * The collections of the API: the top-level ones by URL segment, and the
 * collections below an object (`/hosts/{id}/vms`), each a list of one
 * resource narrowed to the owner by a SQL condition over `t` with the
 * owner's id as its one parameter. Every one of them takes `search`, `max`,
 * `follow` and attribute filters like a top-level collection, and each is a
 * `<link rel>` of its owner.
 */
export const topLevel: NameTable<ResourceName> = nameTable({
  vms: 'vm',
  hosts: 'host',
  clusters: 'cluster',
  datacenters: 'data_center',
  storagedomains: 'storage_domain',
  disks: 'disk',
  networks: 'network',
  vnicprofiles: 'vnic_profile',
  macpools: 'mac_pool',
  templates: 'template',
  vmpools: 'vm_pool',
  tasks: 'task',
  jobs: 'job',
});

/** Conditions over `t` that a top-level collection's objects meet: `/disks` holds floating and attached disks, not templates'. */
export const topLevelScopes: NameTable<string> = nameTable({
  disks: 't.template_id is null',
});

export interface SubCollection {
  owner: string;
  rel: string;
  target: ResourceName;
  scope: string;
}

const tasksOf = (owner: string): SubCollection => ({ owner, rel: 'tasks', target: 'task', scope: 't.object_id = ?' });

export const subCollections: SubCollection[] = [
  { owner: 'vms', rel: 'diskattachments', target: 'disk_attachment', scope: 't.vm_id = ?' },
  { owner: 'vms', rel: 'nics', target: 'nic', scope: 't.vm_id = ?' },
  { owner: 'vms', rel: 'disks', target: 'disk', scope: 't.id in (select a.disk_id from disk_attachments a where a.vm_id = ?)' },
  tasksOf('vms'),
  { owner: 'hosts', rel: 'vms', target: 'vm', scope: 't.host_id = ?' },
  { owner: 'hosts', rel: 'storagedomains', target: 'storage_domain', scope: 't.host_id = ?' },
  { owner: 'hosts', rel: 'tasks', target: 'task', scope: 't.host_id = ?' },
  { owner: 'clusters', rel: 'hosts', target: 'host', scope: 't.cluster_id = ?' },
  { owner: 'clusters', rel: 'vms', target: 'vm', scope: 't.cluster_id = ?' },
  { owner: 'clusters', rel: 'vmpools', target: 'vm_pool', scope: 't.cluster_id = ?' },
  { owner: 'clusters', rel: 'templates', target: 'template', scope: 't.cluster_id = ?' },
  { owner: 'datacenters', rel: 'clusters', target: 'cluster', scope: 't.data_center_id = ?' },
  { owner: 'datacenters', rel: 'networks', target: 'network', scope: 't.data_center_id = ?' },
  { owner: 'storagedomains', rel: 'disks', target: 'disk', scope: 't.storage_domain_id = ?' },
  { owner: 'storagedomains', rel: 'vms', target: 'vm', scope: 't.id in (select a.vm_id from disk_attachments a join disks d on d.id = a.disk_id where d.storage_domain_id = ?)' },
  { owner: 'storagedomains', rel: 'templates', target: 'template', scope: 't.id in (select d.template_id from disks d where d.storage_domain_id = ?)' },
  tasksOf('storagedomains'),
  { owner: 'disks', rel: 'vms', target: 'vm', scope: 't.id in (select a.vm_id from disk_attachments a where a.disk_id = ?)' },
  tasksOf('disks'),
  { owner: 'networks', rel: 'vnicprofiles', target: 'vnic_profile', scope: 't.network_id = ?' },
  { owner: 'networks', rel: 'vms', target: 'vm', scope: 't.id in (select n.vm_id from nics n join vnic_profiles p on p.id = n.vnic_profile_id where p.network_id = ?)' },
  { owner: 'vnicprofiles', rel: 'vms', target: 'vm', scope: 't.id in (select n.vm_id from nics n where n.vnic_profile_id = ?)' },
  { owner: 'macpools', rel: 'clusters', target: 'cluster', scope: 't.mac_pool_id = ?' },
  { owner: 'templates', rel: 'diskattachments', target: 'disk_attachment', scope: 't.template_id = ?' },
  { owner: 'templates', rel: 'nics', target: 'nic', scope: 't.template_id = ?' },
  { owner: 'templates', rel: 'vms', target: 'vm', scope: 't.template_id = ?' },
  { owner: 'templates', rel: 'vmpools', target: 'vm_pool', scope: 't.template_id = ?' },
  tasksOf('templates'),
  { owner: 'vmpools', rel: 'vms', target: 'vm', scope: 't.vm_pool_id = ?' },
  tasksOf('vmpools'),
];

/** The collections whose objects take permissions, with what kind of object they are. */
export const permissionOwners = {
  vms: 'vm',
  clusters: 'cluster',
  datacenters: 'data_center',
  storagedomains: 'storage_domain',
  disks: 'disk',
  templates: 'template',
  vmpools: 'vm_pool',
  hosts: 'host',
  networks: 'network',
} as const satisfies Record<string, GuardedObject>;

/** The `<link rel>`s of an object of a top-level collection: its sub-collections, and its permissions when it takes them. */
export function linkRels(owner: string): string[] {
  const rels = subCollections.filter((collection) => collection.owner === owner).map((collection) => collection.rel);
  if (owner === 'datacenters') rels.push('storagedomains');
  if (owner === 'vms') rels.push('cdroms');
  if (owner === 'storagedomains') rels.push('files');
  if (owner === 'vms') rels.push('graphicsconsoles', 'statistics', 'snapshots', 'numanodes');
  if (owner === 'vms' || owner === 'hosts' || owner === 'templates') rels.push('tags');
  if (Object.hasOwn(permissionOwners, owner)) rels.push('permissions');
  return rels.sort();
}
