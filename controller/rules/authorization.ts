/**
 * oVirt's authorization model, as data: permits (oVirt's action groups, with
 * their ids and names), the built-in roles (with oVirt's ids, names and
 * permits), and the kinds of object a permission can be given on. A user
 * holds a permit on an object when a permission gives the user, or a group
 * the user is a member of, a role with that permit on the object or on one of
 * its ancestors (see services/authorization.ts for the object tree).
 */

/** A permit's `administrative` is true when oVirt's role type for it is ADMIN. */
export const permits = [
  { id: 1, name: 'create_vm', administrative: false },
  { id: 2, name: 'delete_vm', administrative: false },
  { id: 3, name: 'edit_vm_properties', administrative: false },
  { id: 5, name: 'change_vm_cd', administrative: false },
  { id: 6, name: 'migrate_vm', administrative: false },
  { id: 7, name: 'connect_to_vm', administrative: false },
  { id: 8, name: 'import_export_vm', administrative: true },
  { id: 9, name: 'configure_vm_network', administrative: false },
  { id: 10, name: 'configure_vm_storage', administrative: false },
  { id: 11, name: 'move_vm', administrative: false },
  { id: 12, name: 'manipulate_vm_snapshots', administrative: false },
  { id: 13, name: 'reconnect_to_vm', administrative: false },
  { id: 14, name: 'change_vm_custom_properties', administrative: true },
  { id: 15, name: 'edit_admin_vm_properties', administrative: true },
  { id: 16, name: 'create_instance', administrative: false },
  { id: 17, name: 'reboot_vm', administrative: false },
  { id: 18, name: 'stop_vm', administrative: false },
  { id: 19, name: 'shut_down_vm', administrative: false },
  { id: 21, name: 'hibernate_vm', administrative: false },
  { id: 22, name: 'run_vm', administrative: false },
  { id: 23, name: 'reset_vm', administrative: false },
  { id: 100, name: 'create_host', administrative: true },
  { id: 101, name: 'edit_host_configuration', administrative: true },
  { id: 102, name: 'delete_host', administrative: true },
  { id: 103, name: 'manipulate_host', administrative: true },
  { id: 104, name: 'configure_host_network', administrative: true },
  { id: 200, name: 'create_template', administrative: false },
  { id: 201, name: 'edit_template_properties', administrative: false },
  { id: 202, name: 'delete_template', administrative: false },
  { id: 203, name: 'copy_template', administrative: false },
  { id: 204, name: 'configure_template_network', administrative: false },
  { id: 205, name: 'edit_admin_template_properties', administrative: true },
  { id: 300, name: 'create_vm_pool', administrative: false },
  { id: 301, name: 'edit_vm_pool_configuration', administrative: false },
  { id: 302, name: 'delete_vm_pool', administrative: false },
  { id: 303, name: 'vm_pool_basic_operations', administrative: false },
  { id: 400, name: 'create_cluster', administrative: true },
  { id: 401, name: 'edit_cluster_configuration', administrative: true },
  { id: 402, name: 'delete_cluster', administrative: true },
  { id: 403, name: 'configure_cluster_network', administrative: true },
  { id: 404, name: 'assign_cluster_network', administrative: true },
  { id: 500, name: 'manipulate_users', administrative: true },
  { id: 501, name: 'manipulate_roles', administrative: true },
  { id: 502, name: 'manipulate_permissions', administrative: false },
  { id: 503, name: 'add_users_and_groups_from_directory', administrative: false },
  { id: 600, name: 'create_storage_domain', administrative: true },
  { id: 601, name: 'edit_storage_domain_configuration', administrative: true },
  { id: 602, name: 'delete_storage_domain', administrative: true },
  { id: 603, name: 'manipulate_storage_domain', administrative: true },
  { id: 700, name: 'create_storage_pool', administrative: true },
  { id: 701, name: 'delete_storage_pool', administrative: true },
  { id: 702, name: 'edit_storage_pool_configuration', administrative: true },
  { id: 703, name: 'configure_storage_pool_network', administrative: true },
  { id: 704, name: 'create_storage_pool_network', administrative: true },
  { id: 705, name: 'delete_storage_pool_network', administrative: true },
  { id: 800, name: 'configure_engine', administrative: true },
  { id: 1100, name: 'create_disk', administrative: false },
  { id: 1101, name: 'attach_disk', administrative: false },
  { id: 1102, name: 'edit_disk_properties', administrative: false },
  { id: 1103, name: 'configure_disk_storage', administrative: false },
  { id: 1104, name: 'delete_disk', administrative: false },
  { id: 1106, name: 'access_image_storage', administrative: false },
  { id: 1203, name: 'configure_network_vnic_profile', administrative: true },
  { id: 1204, name: 'create_network_vnic_profile', administrative: true },
  { id: 1205, name: 'delete_network_vnic_profile', administrative: true },
  { id: 1300, name: 'login', administrative: false },
  { id: 1500, name: 'inject_external_tasks', administrative: false },
  { id: 1301, name: 'tag_management', administrative: true },
  { id: 1302, name: 'bookmark_management', administrative: true },
  { id: 1303, name: 'event_notification_management', administrative: true },
  { id: 1304, name: 'audit_log_management', administrative: true },
  { id: 1660, name: 'create_mac_pool', administrative: true },
  { id: 1661, name: 'edit_mac_pool', administrative: true },
  { id: 1662, name: 'delete_mac_pool', administrative: true },
  { id: 1663, name: 'configure_mac_pool', administrative: true },
] as const;

export type Permit = (typeof permits)[number];
export type PermitName = Permit['name'];

const runVm = ['reboot_vm', 'stop_vm', 'shut_down_vm', 'hibernate_vm', 'run_vm', 'reset_vm'] as const;
const vmAll = ['create_vm', 'delete_vm', 'edit_vm_properties', ...runVm, 'change_vm_cd', 'migrate_vm', 'connect_to_vm', 'import_export_vm', 'configure_vm_network', 'configure_vm_storage', 'move_vm', 'manipulate_vm_snapshots', 'change_vm_custom_properties', 'edit_admin_vm_properties'] as const;
const hostAll = ['create_host', 'edit_host_configuration', 'delete_host', 'manipulate_host', 'configure_host_network'] as const;
const templateAll = ['create_template', 'edit_template_properties', 'delete_template', 'copy_template', 'configure_template_network', 'edit_admin_template_properties'] as const;
const poolAll = ['create_vm_pool', 'edit_vm_pool_configuration', 'delete_vm_pool', 'vm_pool_basic_operations'] as const;
const clusterAll = ['create_cluster', 'edit_cluster_configuration', 'delete_cluster', 'configure_cluster_network', 'assign_cluster_network'] as const;
const storageDomainAll = ['create_storage_domain', 'edit_storage_domain_configuration', 'delete_storage_domain', 'manipulate_storage_domain'] as const;
const dataCenterAll = ['create_storage_pool', 'delete_storage_pool', 'edit_storage_pool_configuration', 'configure_storage_pool_network', 'create_storage_pool_network', 'delete_storage_pool_network'] as const;
const diskAll = ['create_disk', 'attach_disk', 'edit_disk_properties', 'configure_disk_storage', 'delete_disk'] as const;
const vnicProfileAll = ['configure_network_vnic_profile', 'create_network_vnic_profile', 'delete_network_vnic_profile'] as const;
const managementAll = ['tag_management', 'bookmark_management', 'event_notification_management', 'audit_log_management'] as const;

/**
 * The built-in roles, with oVirt's ids and names. Their permits follow oVirt's
 * (its data scripts, with VM_BASIC_OPERATIONS split into the run, stop,
 * shut down, reboot, hibernate and reset permits as oVirt split it), limited
 * to the permits above. `administrative` is oVirt's role type ADMIN. None is
 * `mutable`: Drover has no user-defined roles.
 */
export const roles = [
  {
    id: '00000000-0000-0000-0000-000000000001',
    name: 'SuperUser',
    description: 'Roles management administrator',
    administrative: true,
    permits: permits.map((permit) => permit.name),
  },
  {
    id: '00000000-0000-0000-0001-000000000001',
    name: 'UserRole',
    description: 'Standard User Role',
    administrative: false,
    permits: [...runVm, 'change_vm_cd', 'connect_to_vm', 'vm_pool_basic_operations', 'access_image_storage', 'login'],
  },
  {
    id: '00000000-0000-0000-0001-000000000002',
    name: 'PowerUserRole',
    description: 'User Role, allowed to create VMs, Templates and Disks',
    administrative: false,
    permits: ['create_vm', 'create_template', 'create_disk', 'access_image_storage', 'login'],
  },
  {
    id: 'def00006-0000-0000-0000-def000000006',
    name: 'UserVmManager',
    description: 'User Role, with permission for any operation on Vms',
    administrative: false,
    permits: ['create_vm', 'delete_vm', 'edit_vm_properties', ...runVm, 'change_vm_cd', 'connect_to_vm', 'configure_vm_network', 'configure_vm_storage', 'manipulate_vm_snapshots', 'create_disk', 'attach_disk', 'edit_disk_properties', 'delete_disk', 'manipulate_permissions', 'add_users_and_groups_from_directory', 'login'],
  },
  {
    id: 'def00001-0000-0000-0000-def000000001',
    name: 'ClusterAdmin',
    description: 'Administrator Role, permission for all the objects underneath a specific Cluster',
    administrative: true,
    permits: [...vmAll, ...poolAll, ...hostAll, ...clusterAll.filter((permit) => permit !== 'assign_cluster_network'), ...diskAll, 'manipulate_permissions', 'add_users_and_groups_from_directory', ...managementAll, 'login'],
  },
  {
    id: 'def00002-0000-0000-0000-def000000002',
    name: 'DataCenterAdmin',
    description: 'Administrator Role, permission for all the objects underneath a specific Data Center, except Storage',
    administrative: true,
    permits: [...vmAll, ...templateAll, ...poolAll, ...hostAll, ...clusterAll, ...dataCenterAll, ...diskAll, ...vnicProfileAll, 'manipulate_permissions', 'add_users_and_groups_from_directory', ...managementAll, 'login'],
  },
  {
    id: 'def00003-0000-0000-0000-def000000003',
    name: 'StorageAdmin',
    description: 'Administrator Role, permission for all operations on a specific Storage Domain',
    administrative: true,
    permits: [...storageDomainAll, ...diskAll, 'access_image_storage', ...managementAll, 'login'],
  },
  {
    id: 'def00004-0000-0000-0000-def000000004',
    name: 'HostAdmin',
    description: 'Administrator Role, permission for all operations on a specific Host',
    administrative: true,
    permits: [...hostAll, ...storageDomainAll, ...managementAll, 'login'],
  },
  {
    id: 'def00005-0000-0000-0000-def000000005',
    name: 'NetworkAdmin',
    description: 'Administrator Role, permission for all operations on a specific Logical Network',
    administrative: true,
    permits: ['configure_host_network', 'configure_cluster_network', 'assign_cluster_network', 'configure_storage_pool_network', 'create_storage_pool_network', 'delete_storage_pool_network', 'configure_vm_network', 'configure_template_network', ...vnicProfileAll, ...managementAll, 'login'],
  },
  {
    id: 'def00007-0000-0000-0000-def000000007',
    name: 'VmPoolAdmin',
    description: 'Administrator Role, permission for all operations on a specific VM Pool',
    administrative: true,
    permits: [...poolAll, 'create_vm', ...managementAll, 'login'],
  },
  {
    id: 'def00008-0000-0000-0000-def000000008',
    name: 'TemplateAdmin',
    description: 'Administrator Role, permission for all operations on a specific Template',
    administrative: true,
    permits: [...templateAll, 'access_image_storage', 'manipulate_permissions', 'add_users_and_groups_from_directory', ...managementAll, 'login'],
  },
  {
    id: 'def0000a-0000-0000-0000-def00000000b',
    name: 'DiskOperator',
    description: 'User Role, permissions for all operations on a specific disk',
    administrative: false,
    permits: ['create_disk', 'attach_disk', 'edit_disk_properties', 'delete_disk', 'manipulate_permissions', 'add_users_and_groups_from_directory', 'login'],
  },
  {
    id: 'def0000a-0000-0000-0000-def00000000c',
    name: 'DiskCreator',
    description: 'User Role, permission to create Disks',
    administrative: false,
    permits: ['create_disk', 'login'],
  },
  {
    id: 'def0000a-0000-0000-0000-def00000000d',
    name: 'VmCreator',
    description: 'User Role, permission to create VMs',
    administrative: false,
    permits: ['create_vm', 'create_disk', 'login'],
  },
  {
    id: 'def0000a-0000-0000-0000-def00000000e',
    name: 'TemplateCreator',
    description: 'User Role, permission to create Templates',
    administrative: false,
    permits: ['create_template', 'login'],
  },
  {
    id: 'def0000c-0000-0000-0000-def00000000c',
    name: 'ReadOnlyAdmin',
    description: 'Read Only Administrator Role',
    administrative: true,
    permits: ['login'],
  },
] as const satisfies readonly { id: string; name: string; description: string; administrative: boolean; permits: readonly PermitName[] }[];

export type Role = (typeof roles)[number];
export type RoleName = Role['name'];

export const superUserRoleId = roles[0].id;

/** The kinds of object a permission can be given on; `system` is the whole installation. */
export const objectTypes = ['system', 'data_center', 'cluster', 'host', 'vm', 'vm_pool', 'template', 'storage_domain', 'disk', 'network'] as const;
export type ObjectType = (typeof objectTypes)[number];

/** The one authentication domain: oVirt's built-in one, whose id is, as oVirt makes it, its name in hexadecimal. */
export const internalDomain = { name: 'internal', id: Buffer.from('internal', 'utf8').toString('hex') } as const;

/** The only namespace of the internal domain, as oVirt presents it. */
export const internalNamespace = '*';

const roleById = new Map<string, Role>(roles.map((role) => [role.id, role]));

export function roleOf(id: string): Role | undefined {
  return roleById.get(id);
}

export function roleHasPermit(roleId: string, permit: PermitName): boolean {
  return (roleById.get(roleId)?.permits as readonly string[] | undefined)?.includes(permit) ?? false;
}

export function isAdministrativeRole(roleId: string): boolean {
  return roleById.get(roleId)?.administrative ?? false;
}

export function permitByName(name: PermitName): Permit {
  return permits.find((permit) => permit.name === name)!;
}

export function permitById(id: number): Permit | undefined {
  return permits.find((permit) => permit.id === id);
}

/**
 * A user name of the internal domain: `name@internal` (the domain may also be
 * written oVirt's way, `internal-authz`). The principal is the part before
 * the domain: letters, digits, `.`, `_` and `-`, at most 64 characters.
 */
export function parseUserName(userName: string): { principal: string; userName: string } | undefined {
  const match = /^([A-Za-z0-9._-]{1,64})(?:@(internal|internal-authz))?$/.exec(userName);
  if (!match) return undefined;
  return { principal: match[1]!, userName: `${match[1]}@${internalDomain.name}` };
}
