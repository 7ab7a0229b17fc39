import type { Services } from './services.js';
import type { ApiContext } from './context.js';
import type { RouteStep } from './routing.js';
import { permissionOwners, subCollections, topLevel } from './collections.js';
import { documentOf, queryFlag } from './input/request.js';
import type { Fields } from './input/fields.js';
import { ServiceError, forbidden, invalid, notFound } from '../rules/errors.js';
import type { PermitName } from '../rules/authorization.js';
import { vmActions, type VmAction } from '../rules/vm-actions.js';
import type { GuardedObject, GuardedResource } from '../services/authorization.js';
import type { TaggableKind } from '../rules/tags.js';
import { taggedCollections } from './present/tags.js';

/**
 * What a route asks of its user before it runs:
 * - `anyone`: any authenticated user (collections are then limited in SQL to what the user may see);
 * - `administrator`: a user with an administrative role somewhere;
 * - `system`: the permit on the system itself;
 * - `object`: the object whose id is the route's `param` must be one the user may see (else 404, as if it did not
 *   exist), and, with a `permit`, the user must hold that permit on it (else 403);
 * - `edit`: as `object` for the route's `:id`; a change that names another container for the object (a VM's
 *   cluster) also needs, on that container, the permit that creating the object there needs;
 * - `create`: the permit on the object the request's document names at `path` (the cluster of a new VM, say);
 * - `vmTask`: the permit of the VM action the request's task document names, on the VM;
 * - `self`: the user whose id is the route's `param`, or an administrator.
 */
export type Requirement =
  | { kind: 'anyone' }
  | { kind: 'administrator' }
  | { kind: 'system'; permit: PermitName }
  | { kind: 'object'; resource: GuardedResource; param: string; permit?: PermitName }
  | { kind: 'edit'; resource: GuardedObject; permit: PermitName; move: Move }
  | { kind: 'create'; permit: PermitName; root: string; parent: GuardedObject; path: readonly string[] }
  | { kind: 'vmTask' }
  | { kind: 'self'; param: string };

/** The permit each VM action needs, as oVirt's commands need them. */
export const vmActionPermits: Record<VmAction, PermitName> = {
  start: 'run_vm',
  resume: 'run_vm',
  stop: 'stop_vm',
  shutdown: 'shut_down_vm',
  suspend: 'hibernate_vm',
  reboot: 'reboot_vm',
  reset: 'reset_vm',
  remove: 'delete_vm',
};

/** What moving an object to another container takes: the container its document names at `path`, whose id its row keeps in `column`, and the permit on it. */
interface Move {
  root: string;
  path: readonly string[];
  parent: GuardedObject;
  column: 'cluster_id' | 'data_center_id';
  permit: PermitName;
}

const anyone: Requirement = { kind: 'anyone' };
const administrator: Requirement = { kind: 'administrator' };
const see = (resource: GuardedResource, param = 'id'): Requirement => ({ kind: 'object', resource, param });
const act = (resource: GuardedResource, permit: PermitName, param = 'id'): Requirement => ({ kind: 'object', resource, param, permit });
const edit = (resource: GuardedObject, permit: PermitName, move: Move): Requirement => ({ kind: 'edit', resource, permit, move });
const system = (permit: PermitName): Requirement => ({ kind: 'system', permit });
const create = (permit: PermitName, root: string, parent: GuardedObject, ...path: string[]): Requirement => ({ kind: 'create', permit, root, parent, path });


function requirementTable(): Map<string, Requirement> {
  const table = new Map<string, Requirement>(
    Object.entries({
      'GET /': anyone,
      'POST /datacenters': system('create_storage_pool'),
      'GET /datacenters/:id': see('data_center'),
      'PUT /datacenters/:id': act('data_center', 'edit_storage_pool_configuration'),
      'DELETE /datacenters/:id': act('data_center', 'delete_storage_pool'),
      'GET /datacenters/:dc/storagedomains': see('data_center', 'dc'),
      'POST /datacenters/:dc/storagedomains': act('data_center', 'edit_storage_pool_configuration', 'dc'),
      'GET /datacenters/:dc/storagedomains/:id': see('storage_domain'),
      'DELETE /datacenters/:dc/storagedomains/:id': act('data_center', 'edit_storage_pool_configuration', 'dc'),
      'POST /datacenters/:dc/storagedomains/:id/activate': act('storage_domain', 'manipulate_storage_domain'),
      'POST /datacenters/:dc/storagedomains/:id/deactivate': act('storage_domain', 'manipulate_storage_domain'),
      'POST /clusters': create('create_cluster', 'cluster', 'data_center', 'data_center'),
      'GET /clusters/:id': see('cluster'),
      'PUT /clusters/:id': edit('cluster', 'edit_cluster_configuration', { root: 'cluster', path: ['data_center'], parent: 'data_center', column: 'data_center_id', permit: 'create_cluster' }),
      'DELETE /clusters/:id': act('cluster', 'delete_cluster'),
      'POST /hosts': create('create_host', 'host', 'cluster', 'cluster'),
      'GET /hosts/:id': see('host'),
      'GET /hosts/:id/numanodes': see('host'),
      'DELETE /hosts/:id': act('host', 'delete_host'),
      'POST /hosts/:id/deactivate': act('host', 'manipulate_host'),
      'POST /hosts/:id/activate': act('host', 'manipulate_host'),
      'POST /hosts/:id/fence': act('host', 'manipulate_host'),
      'POST /hostenrollmenttokens': system('create_host'),
      'GET /hostenrollmenttokens': system('create_host'),
      'GET /hostenrollmenttokens/:id': system('create_host'),
      'DELETE /hostenrollmenttokens/:id': system('create_host'),
      'POST /vms': create('create_vm', 'vm', 'cluster', 'cluster'),
      'GET /vms/:id': see('vm'),
      'PUT /vms/:id': edit('vm', 'edit_vm_properties', { root: 'vm', path: ['cluster'], parent: 'cluster', column: 'cluster_id', permit: 'create_vm' }),
      'DELETE /vms/:id': act('vm', vmActionPermits.remove),
      'POST /vms/:id/tasks': { kind: 'vmTask' },
      'GET /vms/:id/diskattachments/:disk': see('vm'),
      'GET /vms/:id/nics/:nic': see('vm'),
      'GET /templates/:id/diskattachments/:disk': see('template'),
      'GET /templates/:id/nics/:nic': see('template'),
      'POST /vms/:id/diskattachments': act('vm', 'configure_vm_storage'),
      'PUT /vms/:id/diskattachments/:disk': act('vm', 'configure_vm_storage'),
      'DELETE /vms/:id/diskattachments/:disk': act('vm', 'configure_vm_storage'),
      'POST /vms/:id/nics': act('vm', 'configure_vm_network'),
      'PUT /vms/:id/nics/:nic': act('vm', 'configure_vm_network'),
      'DELETE /vms/:id/nics/:nic': act('vm', 'configure_vm_network'),
      'POST /vms/:id/migrate': act('vm', 'migrate_vm'),
      'POST /vms/:id/cancelmigration': act('vm', 'migrate_vm'),
      'GET /vms/:id/statistics': see('vm'),
      'GET /vms/:id/numanodes': see('vm'),
      'GET /vms/:id/cdroms': see('vm'),
      'GET /vms/:id/cdroms/:cdrom': see('vm'),
      'PUT /vms/:id/cdroms/:cdrom': act('vm', 'change_vm_cd'),
      'GET /storagedomains/:id/files': see('storage_domain'),
      'GET /storagedomains/:id/files/:file': see('storage_domain'),
      'GET /vms/:id/snapshots': see('vm'),
      'GET /vms/:id/snapshots/:snapshot': see('vm'),
      'GET /vms/:id/graphicsconsoles': see('vm'),
      'GET /vms/:id/graphicsconsoles/:console': see('vm'),
      'POST /vms/:id/graphicsconsoles/:console/ticket': act('vm', 'connect_to_vm'),
      'POST /vms/:id/graphicsconsoles/:console/remoteviewerconnectionfile': act('vm', 'connect_to_vm'),
      'GET /tasks/:id': see('task'),
      'DELETE /tasks/:id': system('configure_engine'),
      'POST /jobs': system('inject_external_tasks'),
      'POST /jobs/:id/end': system('inject_external_tasks'),
      'POST /jobs/:id/clear': system('inject_external_tasks'),
      'GET /jobs/:id/steps': see('job'),
      'GET /jobs/:id/steps/:step': see('job'),
      'POST /jobs/:id/steps': system('inject_external_tasks'),
      'POST /jobs/:id/steps/:step/end': system('inject_external_tasks'),
      'POST /storagedomains': system('create_storage_domain'),
      'GET /storagedomains/:id': see('storage_domain'),
      'PUT /storagedomains/:id': act('storage_domain', 'edit_storage_domain_configuration'),
      'DELETE /storagedomains/:id': act('storage_domain', 'delete_storage_domain'),
      'POST /storagedomains/:id/activate': act('storage_domain', 'manipulate_storage_domain'),
      'POST /storagedomains/:id/deactivate': act('storage_domain', 'manipulate_storage_domain'),
      'POST /disks': create('create_disk', 'disk', 'storage_domain', 'storage_domains', 'storage_domain'),
      'GET /disks/:id': see('disk'),
      'PUT /disks/:id': act('disk', 'edit_disk_properties'),
      'DELETE /disks/:id': act('disk', 'delete_disk'),
      'POST /networks': create('create_storage_pool_network', 'network', 'data_center', 'data_center'),
      'GET /networks/:id': see('network'),
      'PUT /networks/:id': edit('network', 'configure_storage_pool_network', { root: 'network', path: ['data_center'], parent: 'data_center', column: 'data_center_id', permit: 'create_storage_pool_network' }),
      'DELETE /networks/:id': act('network', 'delete_storage_pool_network'),
      'POST /networks/:id/vnicprofiles': act('network', 'create_network_vnic_profile'),
      'POST /vnicprofiles': create('create_network_vnic_profile', 'vnic_profile', 'network', 'network'),
      'GET /vnicprofiles/:id': see('vnic_profile'),
      'PUT /vnicprofiles/:id': act('vnic_profile', 'configure_network_vnic_profile'),
      'DELETE /vnicprofiles/:id': act('vnic_profile', 'delete_network_vnic_profile'),
      'POST /macpools': system('create_mac_pool'),
      'GET /macpools/:id': see('mac_pool'),
      'PUT /macpools/:id': act('mac_pool', 'edit_mac_pool'),
      'DELETE /macpools/:id': act('mac_pool', 'delete_mac_pool'),
      'POST /templates': create('create_template', 'template', 'vm', 'vm'),
      'GET /templates/:id': see('template'),
      'PUT /templates/:id': edit('template', 'edit_template_properties', { root: 'template', path: ['cluster'], parent: 'cluster', column: 'cluster_id', permit: 'create_template' }),
      'DELETE /templates/:id': act('template', 'delete_template'),
      'POST /vmpools': create('create_vm_pool', 'vm_pool', 'cluster', 'cluster'),
      'GET /vmpools/:id': see('vm_pool'),
      'PUT /vmpools/:id': edit('vm_pool', 'edit_vm_pool_configuration', { root: 'vm_pool', path: ['cluster'], parent: 'cluster', column: 'cluster_id', permit: 'create_vm_pool' }),
      'DELETE /vmpools/:id': act('vm_pool', 'delete_vm_pool'),
      'POST /vmpools/:id/allocatevm': act('vm_pool', 'vm_pool_basic_operations'),
      'GET /users': administrator,
      'POST /users': system('manipulate_users'),
      'GET /users/:id': { kind: 'self', param: 'id' },
      'DELETE /users/:id': system('manipulate_users'),
      'GET /users/:id/groups': { kind: 'self', param: 'id' },
      'GET /users/:id/groups/:group': { kind: 'self', param: 'id' },
      'POST /users/:id/groups': system('manipulate_users'),
      'DELETE /users/:id/groups/:group': system('manipulate_users'),
      'GET /users/:id/permissions': { kind: 'self', param: 'id' },
      'GET /users/:id/permissions/:permission': { kind: 'self', param: 'id' },
      'POST /users/:id/permissions': anyone,
      'DELETE /users/:id/permissions/:permission': anyone,
      'GET /groups': administrator,
      'POST /groups': system('manipulate_users'),
      'GET /groups/:id': administrator,
      'DELETE /groups/:id': system('manipulate_users'),
      'GET /groups/:id/permissions': administrator,
      'GET /groups/:id/permissions/:permission': administrator,
      'POST /groups/:id/permissions': anyone,
      'DELETE /groups/:id/permissions/:permission': anyone,
      'GET /roles': administrator,
      'GET /roles/:id': administrator,
      'GET /roles/:id/permits': administrator,
      'GET /roles/:id/permits/:permit': administrator,
      'GET /domains': anyone,
      'GET /domains/:id': anyone,
      'GET /domains/:id/users': administrator,
      'GET /domains/:id/groups': administrator,
      'GET /events': anyone,
      'GET /events/:id': anyone,
      'POST /events': system('audit_log_management'),
      'DELETE /events/:id': system('audit_log_management'),
      'GET /permissions': administrator,
      'POST /permissions': system('manipulate_permissions'),
      'GET /permissions/:id': administrator,
      'DELETE /permissions/:id': system('manipulate_permissions'),
      'GET /tags': anyone,
      'GET /tags/:id': anyone,
      'POST /tags': system('tag_management'),
      'PUT /tags/:id': system('tag_management'),
      'DELETE /tags/:id': system('tag_management'),
    } satisfies Record<string, Requirement>),
  );
  for (const action of vmActions) if (action !== 'remove') table.set(`POST /vms/:id/${action}`, act('vm', vmActionPermits[action]));
  for (const [segment, resource] of topLevel) table.set(`GET /${segment}`, anyone).set(`GET /${segment}/:id`, table.get(`GET /${segment}/:id`) ?? see(resource));
  for (const collection of subCollections) table.set(`GET /${collection.owner}/:id/${collection.rel}`, see(topLevel.get(collection.owner)!));
  for (const [segment, type] of Object.entries(permissionOwners)) {
    table.set(`GET /${segment}/:id/permissions`, see(type));
    table.set(`GET /${segment}/:id/permissions/:permission`, see(type));
    table.set(`POST /${segment}/:id/permissions`, act(type, 'manipulate_permissions'));
    table.set(`DELETE /${segment}/:id/permissions/:permission`, act(type, 'manipulate_permissions'));
  }
  for (const [kind, segment] of Object.entries(taggedCollections)) {
    table.set(`GET /${segment}/:id/tags`, see(kind as TaggableKind));
    table.set(`GET /${segment}/:id/tags/:tag`, see(kind as TaggableKind));
    table.set(`POST /${segment}/:id/tags`, system('tag_management'));
    table.set(`DELETE /${segment}/:id/tags/:tag`, system('tag_management'));
  }
  return table;
}

/** Every route's requirement, by `METHOD /path/:pattern`. */
export const routeRequirements: ReadonlyMap<string, Requirement> = requirementTable();

/** A route's requirement; a route without one is a programming error, found when the route is registered. */
export function requirementOf(method: string, path: string): Requirement {
  const requirement = routeRequirements.get(`${method.toUpperCase()} ${path}`);
  if (!requirement) throw new Error(`${method.toUpperCase()} ${path} has no entry in the table of route requirements (api/permits.ts)`);
  return requirement;
}

/**
 * Whether the request reads only what its user may see: oVirt's `filter`
 * query parameter or `Filter` header. Administrators (users with an
 * administrative role) read everything unless they ask for a filter; other
 * users' reads are always filtered, and their asking for no filter is refused.
 */
function filteredRead(ctx: ApiContext, administrator: boolean): boolean {
  const header = ctx.get('Filter').trim().toLowerCase();
  if (header && header !== 'true' && header !== 'false') throw invalid('the Filter header must be true or false');
  const asked = queryFlag(ctx, 'filter') ?? (header ? header === 'true' : undefined);
  if (administrator) return asked ?? false;
  if (asked === false) throw forbidden('only administrators may read without filter; send filter=true or leave it out');
  return true;
}

const what = (resource: string) => resource.replace('_', ' ');

/** The object a document names at `path` (the last element may be repeated: its first one counts): its id or name. */
function referenceAt(fields: Fields, path: readonly string[]): { id?: string; name?: string } | undefined {
  let level: Fields | undefined = fields;
  for (const name of path.slice(0, -1)) level = level?.nested(name);
  const [named] = level?.items(path[path.length - 1]!) ?? [];
  if (!named) return undefined;
  const id = named.text('id', { max: 64 });
  const name = named.text('name', { max: 255 });
  return id || name ? { id, name } : undefined;
}

/** The parent a creation's document names; none when the document is malformed, which its handler then refuses as it does any malformed document. */
async function namedParent(ctx: ApiContext, root: string, path: readonly string[]): Promise<{ id?: string; name?: string } | undefined> {
  try {
    return referenceAt(await documentOf(ctx, root), path);
  } catch (error) {
    if (error instanceof ServiceError && error.kind === 'invalid') return undefined;
    throw error;
  }
}

/**
 * The authorization step of a route: checks its requirement, and decides
 * whether its reads are filtered. A user who holds no role with the `login`
 * permit anywhere (every built-in role has it) may not use the API at all, as
 * oVirt refuses them at login.
 */
export function authorize(services: Services, requirement: Requirement): RouteStep {
  return async (ctx, next) => {
    const { authorization } = services;
    const userId = ctx.state.principal!.userId;
    if (!(await authorization.holdsAnywhere(userId, 'login'))) throw forbidden('the user holds no role, so may not log in; an administrator gives a user a role with a permission');
    const admin = await authorization.isAdministrator(userId);
    ctx.state.filtered = filteredRead(ctx, admin);
    const onObject = async (resource: GuardedResource, id: string, permit: PermitName | undefined) => {
      const outcome = await authorization.check(userId, resource, id, permit, !ctx.state.filtered);
      if (outcome === 'hidden') throw notFound(what(resource), id);
      if (outcome === 'forbidden') throw forbidden(`the user lacks the ${permit} permit on ${what(resource)} ${id}`);
    };
    switch (requirement.kind) {
      case 'anyone':
        break;
      case 'administrator':
        if (!admin) throw forbidden('only administrators may read this');
        break;
      case 'system':
        if (!(await authorization.holdsOnSystem(userId, requirement.permit))) throw forbidden(`the user lacks the ${requirement.permit} permit on the system`);
        break;
      case 'self':
        if (!admin && ctx.params[requirement.param] !== userId) throw notFound('user', ctx.params[requirement.param]!);
        break;
      case 'object':
        await onObject(requirement.resource, ctx.params[requirement.param]!, requirement.permit);
        break;
      case 'edit': {
        const { resource, permit, move } = requirement;
        await onObject(resource, ctx.params.id!, permit);
        const reference = await namedParent(ctx, move.root, move.path);
        const target = reference && (await authorization.find(move.parent, reference));
        if (target && target !== (await authorization.parentOf(resource, ctx.params.id!, move.column))) await onObject(move.parent, target, move.permit);
        break;
      }
      case 'vmTask': {
        const action = (await documentOf(ctx, 'task')).oneOf('action', vmActions, { required: true })!;
        await onObject('vm', ctx.params.id!, vmActionPermits[action]);
        break;
      }
      case 'create': {
        if (!(await authorization.holdsAnywhere(userId, requirement.permit))) throw forbidden(`the user lacks the ${requirement.permit} permit`);
        const reference = await namedParent(ctx, requirement.root, requirement.path);
        if (!reference) break;
        const id = await authorization.find(requirement.parent, reference);
        if (id === undefined) break;
        await onObject(requirement.parent, id, requirement.permit);
        break;
      }
    }
    await next();
  };
}
