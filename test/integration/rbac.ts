import type { ExecutionContext, TestFn } from 'ava';
import { Api, assertFault, basicAuthorization, type ApiResponse } from '../support/api.js';
import { InProcessSystem } from '../support/in-process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';
import { prng } from '../support/random.js';
import { eventually } from '../support/eventually.js';
import { holds, objectKey, sees, type ObjectRef, type ReferenceGrant } from '../../controller/rules/authorization-reference.js';

type Test = TestFn<unknown>;

const password = 'user-secret-1';
const roleIds = { DiskCreator: 'def0000a-0000-0000-0000-def00000000c', UserRole: '00000000-0000-0000-0001-000000000001', UserVmManager: 'def00006-0000-0000-0000-def000000006', PowerUserRole: '00000000-0000-0000-0001-000000000002', SuperUser: '00000000-0000-0000-0000-000000000001' };
const blankTemplateId = '00000000-0000-0000-0000-000000000000';

async function must(t: ExecutionContext, response: Promise<ApiResponse>, status = 201): Promise<any> {
  const answered = await response;
  t.is(answered.status, status, answered.text);
  return answered.body;
}

/** Adds a user of the internal domain through the API and returns its id with a client that authenticates as it. */
async function addUser(t: ExecutionContext, admin: Api, name: string): Promise<{ id: string; api: Api }> {
  const created = await must(t, admin.post('/users', { user_name: `${name}@internal`, password }, { accept: 'json' }));
  return { id: created.id, api: admin.as(basicAuthorization(`${name}@internal`, password)) };
}

async function grant(t: ExecutionContext, admin: Api, collection: string, objectId: string, role: keyof typeof roleIds, principal: { user?: string; group?: string }): Promise<string> {
  const body = { role: { id: roleIds[role] }, ...(principal.user ? { user: { id: principal.user } } : { group: { id: principal.group } }) };
  return (await must(t, admin.post(`/${collection}/${objectId}/permissions`, body, { accept: 'json' }))).id;
}

async function names(api: Api, path: string): Promise<string[]> {
  const response = await api.get(path, { accept: 'json' });
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${response.text}`);
  const [list] = Object.values(response.body ?? {}) as any[][];
  return (list ?? []).map((item) => item.name).sort();
}

/** Users, groups, roles, permissions and the filter, on a controller without hosts. */
export function rbacSuite(test: Test, database: DatabaseKind): void {
  const tag = `[${database}]`;
  let system: InProcessSystem;
  test.before(async () => {
    system = await InProcessSystem.start(database, { label: 'rbac' });
  });
  test.after.always(async () => {
    await system?.close();
  });

  test.serial(`${tag} administrators manage users and groups of the internal domain; roles, permits and the domain read as oVirt presents them`, async (t) => {
    const { api } = system;
    const domains = await must(t, api.get('/domains', { accept: 'json' }), 200);
    t.deepEqual(domains.domain.map((domain: any) => [domain.name, domain.id]), [['internal', Buffer.from('internal').toString('hex')]]);
    const roles = (await must(t, api.get('/roles', { accept: 'json' }), 200)).role as any[];
    for (const [name, id] of Object.entries(roleIds)) t.is(roles.find((role) => role.name === name)?.id, id, `${name} has oVirt's id`);
    t.is(roles.find((role) => role.name === 'UserRole').administrative, 'false');
    t.is(roles.find((role) => role.name === 'ClusterAdmin').administrative, 'true');
    const permits = (await must(t, api.get(`/roles/${roleIds.UserRole}/permits`, { accept: 'json' }), 200)).permit as any[];
    t.true(permits.some((permit) => permit.name === 'run_vm' && permit.id === '22' && permit.administrative === 'false'));
    t.false(permits.some((permit) => permit.name === 'delete_vm'));

    const users = (await must(t, api.get('/users', { accept: 'json' }), 200)).user as any[];
    const admin = users.find((user) => user.user_name === 'admin@internal');
    t.like(admin, { principal: 'admin', name: 'admin', namespace: '*', domain: { id: Buffer.from('internal').toString('hex') } });
    const system_ = (await must(t, api.get('/permissions', { accept: 'json' }), 200)).permission as any[];
    t.true(system_.some((permission) => permission.user?.id === admin.id && permission.role.id === roleIds.SuperUser), 'admin@internal holds SuperUser on the system');

    const carol = await addUser(t, api, 'carol');
    assertFault(t, await carol.api.get('/'), 403, /may not log in/);
    await grant(t, api, 'clusters', (await api.get('/clusters', { accept: 'json' })).body.cluster[0].id, 'UserRole', { user: carol.id });
    const carolRoot = await must(t, carol.api.get('/', { accept: 'json' }), 200);
    t.is(carolRoot.authenticated_user.id, carol.id, 'the root names the user a request authenticated as');
    t.is(carolRoot.summary, undefined, 'the summary, which counts everything, is for administrators');
    const sso = await api.fetch('/ovirt-engine/sso/oauth/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `grant_type=password&scope=ovirt-app-api&username=carol@internal&password=${password}`,
    });
    t.is(sso.status, 200);
    const bearer = api.as(`Bearer ${((await sso.json()) as { access_token: string }).access_token}`);
    t.is((await must(t, bearer.get('/', { accept: 'json' }), 200)).authenticated_user.id, carol.id, 'a user signs in through SSO too');
    const adminRoot = await must(t, api.get('/', { accept: 'json' }), 200);
    t.is(adminRoot.authenticated_user.id, admin.id);
    t.truthy(adminRoot.summary);
    for (const rel of ['users', 'groups', 'roles', 'domains', 'permissions']) t.true((adminRoot.link as any[]).some((entry) => entry.rel === rel), `the root links ${rel}`);
    const xml = await api.get(`/users/${carol.id}`);
    t.regex(xml.text, /<user_name>carol@internal<\/user_name>/);
    assertFault(t, await api.post('/users', { user_name: 'carol@internal', password }, { accept: 'json' }), 409, undefined, 'json');
    assertFault(t, await api.post('/users', { user_name: 'bad name', password }), 400);
    assertFault(t, await carol.api.get('/users'), 403, /administrators/);
    assertFault(t, await carol.api.get('/roles'), 403, /administrators/);
    assertFault(t, await carol.api.post('/users', { user_name: 'mallory@internal', password }), 403, /manipulate_users/);
    t.is((await carol.api.get(`/users/${carol.id}`, { accept: 'json' })).status, 200, 'a user reads their own user');
    assertFault(t, await carol.api.get(`/users/${admin.id}`), 404);

    // Clients find users and groups by search, as oVirt's Ansible modules do.
    for (const usrname of ['carol@internal-authz', 'carol@internal', 'CAROL@internal']) {
      t.deepEqual(await names(api, `/users?search=${encodeURIComponent(`usrname=${usrname}`)}`), ['carol'], usrname);
    }
    t.deepEqual(await names(api, `/users?search=${encodeURIComponent('name=ad*')}`), ['admin']);
    assertFault(t, await api.get(`/users?search=${encodeURIComponent('color=red')}`), 400, /color/);
    const group = await must(t, api.post('/groups', { name: 'operators' }, { accept: 'json' }));
    await must(t, api.post('/groups', { name: 'auditors' }, { accept: 'json' }));
    t.deepEqual(await names(api, `/groups?search=${encodeURIComponent('name="operators"')}`), ['operators']);
    await must(t, api.post(`/users/${carol.id}/groups`, { id: group.id }, { accept: 'json' }));
    t.deepEqual(await names(api, `/users/${carol.id}/groups`), ['operators']);
    await must(t, api.delete(`/users/${carol.id}`), 200);
    t.is((await carol.api.get('/vms')).status, 401, 'a removed user can no longer log in');
    assertFault(t, await api.delete(`/users/${admin.id}`), 409);
    await must(t, api.delete(`/groups/${group.id}`), 200);
  });

  test.serial(`${tag} bad input to users, groups and permissions is refused with a fault and changes nothing`, async (t) => {
    const { api } = system;
    const vm = await api.createVm('bad-input-vm', 64);
    const before = (await must(t, api.get(`/vms/${vm}/permissions`, { accept: 'json' }), 200)).permission ?? [];
    const admin = ((await must(t, api.get('/users', { accept: 'json' }), 200)).user as any[]).find((user) => user.principal === 'admin').id;
    assertFault(t, await api.post(`/vms/${vm}/permissions`, { role: { name: 'NoSuchRole' }, user: { id: admin } }), 404, /role NoSuchRole/);
    assertFault(t, await api.post(`/vms/${vm}/permissions`, { role: { name: 'UserRole' }, user: { id: admin }, group: { id: admin } }), 400, /not both/);
    assertFault(t, await api.post(`/vms/${vm}/permissions`, { role: { name: 'UserRole' } }), 400, /user or a group/);
    assertFault(t, await api.post(`/vms/${vm}/permissions`, { role: { name: 'UserRole' }, user: { id: 'no-such-user' } }), 404, /user no-such-user/);
    assertFault(t, await api.post(`/vms/${vm}/permissions`, { role: { name: 'UserRole' }, user: 'admin' }), 400);
    assertFault(t, await api.post(`/vms/${vm}/permissions`, '<permission><role><name>UserRole</name></role><user id="x"/>'), 400);
    assertFault(t, await api.post(`/users/${admin}/permissions`, { role: { name: 'UserRole' }, vm: { id: 'no-such-vm' } }), 404, /vm no-such-vm/);
    assertFault(t, await api.post(`/users/${admin}/permissions`, { role: { name: 'UserRole' }, vm: { id: vm }, cluster: { id: vm } }), 400, /more than one object/);
    t.deepEqual((await must(t, api.get(`/vms/${vm}/permissions`, { accept: 'json' }), 200)).permission ?? [], before, 'nothing was given');
    await must(t, api.post(`/vms/${vm}/permissions`, { role: { name: 'UserRole' }, user: { id: admin } }, { accept: 'json' }));
    assertFault(t, await api.post(`/vms/${vm}/permissions`, { role: { id: roleIds.UserRole }, user: { id: admin } }), 409, /already/);
    assertFault(t, await api.post('/users', { user_name: 'shorty@internal', password: 'short' }), 400, /password/);
    assertFault(t, await api.post('/users', { user_name: 'nul\u0000@internal', password }), 400);
    assertFault(t, await api.post('/users', { user_name: 'joe@example', password }), 400, /internal domain/);
    assertFault(t, await api.post('/users', { user_name: 'joe@internal', password, domain: { name: 'example' } }), 404, /domain example/);
    assertFault(t, await api.post('/groups', { name: 'bad name' }), 400);
    assertFault(t, await api.get('/roles/no-such-role'), 404);
    assertFault(t, await api.get(`/roles/${roleIds.UserRole}/permits/2`), 404, /permit 2/);
    assertFault(t, await api.get('/domains/abc'), 404);
    assertFault(t, await api.get('/vms', { headers: { Filter: 'maybe' } }), 400, /Filter header/);
    assertFault(t, await api.get('/vms?filter=maybe'), 400);
  });

  test.serial(`${tag} a UserRole user sees and acts only on the VMs granted to them, directly or through a cluster, a data center or a group`, async (t) => {
    const { api } = system;
    const dc = await must(t, api.post('/datacenters', { name: 'dc-rbac' }, { accept: 'json' }));
    const blue = await must(t, api.post('/clusters', { name: 'blue', data_center: { id: dc.id } }, { accept: 'json' }));
    const green = await must(t, api.post('/clusters', { name: 'green', data_center: { name: 'Default' } }, { accept: 'json' }));
    const vm = async (name: string, cluster: string) => (await must(t, api.post('/vms', { name, memory: 64 * 1024 * 1024, cluster: { name: cluster } }, { accept: 'json' }))).id as string;
    const mine = await vm('r-mine', 'green');
    await vm('r-other', 'green');
    await vm('r-blue-1', 'blue');
    await vm('r-blue-2', 'blue');
    const dave = await addUser(t, api, 'dave');

    assertFault(t, await dave.api.get('/vms'), 403, /may not log in/);
    await grant(t, api, 'clusters', blue.id, 'DiskCreator', { user: dave.id });
    t.deepEqual(await names(dave.api, '/vms'), ['r-blue-1', 'r-blue-2'], 'any role on a cluster shows its VMs');
    const creator = (await must(t, api.get(`/users/${dave.id}/permissions`, { accept: 'json' }), 200)).permission[0].id;
    await must(t, api.delete(`/users/${dave.id}/permissions/${creator}`), 200);
    await grant(t, api, 'vms', mine, 'UserRole', { user: dave.id });
    t.deepEqual(await names(dave.api, '/vms'), ['r-mine']);
    t.is((await dave.api.get(`/vms/${mine}`)).status, 200);
    t.deepEqual(await names(dave.api, '/clusters'), ['green'], "a VM's cluster is seen, as oVirt shows users the containers of what they use");
    assertFault(t, await dave.api.put(`/clusters/${green.id}`, { description: 'x' }), 403, /edit_cluster_configuration/);

    const onBlue = await grant(t, api, 'clusters', blue.id, 'UserRole', { user: dave.id });
    t.deepEqual(await names(dave.api, '/vms'), ['r-blue-1', 'r-blue-2', 'r-mine']);
    await must(t, api.delete(`/clusters/${blue.id}/permissions/${onBlue}`), 200);
    await grant(t, api, 'datacenters', dc.id, 'UserRole', { user: dave.id });
    t.deepEqual(await names(dave.api, '/vms'), ['r-blue-1', 'r-blue-2', 'r-mine'], 'a data center grant holds for its clusters VMs');
    t.deepEqual(await names(dave.api, '/clusters'), ['blue', 'green']);

    const erin = await addUser(t, api, 'erin');
    const group = await must(t, api.post('/groups', { name: 'green-team' }, { accept: 'json' }));
    await grant(t, api, 'clusters', green.id, 'UserRole', { group: group.id });
    assertFault(t, await erin.api.get('/vms'), 403, /may not log in/);
    await must(t, api.post(`/users/${erin.id}/groups`, { id: group.id }, { accept: 'json' }));
    t.deepEqual(await names(erin.api, '/vms'), ['r-mine', 'r-other'], "a group's permission holds for its members");

    // Writes need their permits: UserRole may not edit or remove a VM; UserVmManager may.
    assertFault(t, await dave.api.put(`/vms/${mine}`, { description: 'mine' }), 403, /edit_vm_properties/);
    assertFault(t, await dave.api.delete(`/vms/${mine}`), 403, /delete_vm/);
    assertFault(t, await dave.api.post(`/vms/${mine}/nics`, { name: 'eth0' }), 403, /configure_vm_network/);
    assertFault(t, await dave.api.post('/vms', { name: 'r-new', memory: 64 * 1024 * 1024, cluster: { name: 'green' } }), 403, /create_vm/);
    await grant(t, api, 'vms', mine, 'UserVmManager', { user: dave.id });
    await must(t, dave.api.put(`/vms/${mine}`, { description: 'mine' }, { accept: 'json' }), 200);
    // Moving a VM to another cluster takes create_vm there; naming its own cluster does not.
    await must(t, dave.api.put(`/vms/${mine}`, { description: 'still mine', cluster: { name: 'green' } }, { accept: 'json' }), 200);
    assertFault(t, await dave.api.put(`/vms/${mine}`, { cluster: { name: 'blue' } }), 403, /create_vm permit on cluster/);
    assertFault(t, await dave.api.put(`/vms/${mine}`, { cluster: { name: 'Default' } }), 404, /does not exist/);
    const hidden = (await api.get('/vms?search=name%3Dr-other', { accept: 'json' })).body.vm[0].id;
    assertFault(t, await dave.api.put(`/vms/${hidden}`, { description: 'x' }), 404, /does not exist/);
    assertFault(t, await dave.api.post(`/vms/${hidden}/start`, '<action/>'), 404);

    // Creation needs the permit on the cluster the new VM names.
    await grant(t, api, 'clusters', blue.id, 'PowerUserRole', { user: dave.id });
    await must(t, dave.api.post('/vms', { name: 'r-dave', memory: 64 * 1024 * 1024, cluster: { name: 'blue' } }, { accept: 'json' }));
    assertFault(t, await dave.api.post('/vms', { name: 'r-dave-2', memory: 64 * 1024 * 1024, cluster: { name: 'green' } }), 403, /create_vm permit on cluster/);
    assertFault(t, await dave.api.post('/vms', { name: 'r-dave-3', memory: 64 * 1024 * 1024, cluster: { name: 'Default' } }), 404, /does not exist/);
    t.is((await must(t, dave.api.put(`/vms/${mine}`, { cluster: { name: 'blue' } }, { accept: 'json' }), 200)).cluster.id, blue.id, 'with create_vm on the cluster, the VM moves');

    // Permissions: a user manages what they hold manipulate_permissions on; the system's need an administrator.
    assertFault(t, await dave.api.post('/permissions', { role: { id: roleIds.UserRole }, user: { id: erin.id } }), 403);
    const given = await must(t, dave.api.post(`/vms/${mine}/permissions`, { role: { name: 'UserRole' }, user: { id: erin.id } }, { accept: 'json' }));
    t.is(given.vm.id, mine);
    assertFault(t, await dave.api.post(`/vms/${mine}/permissions`, { role: { name: 'SuperUser' }, user: { id: erin.id } }), 403, /administrative/);
    assertFault(t, await dave.api.get('/vms?filter=false'), 403, /administrators/);
    assertFault(t, await dave.api.get('/vms', { headers: { Filter: 'false' } }), 403);

    // Permissions go with their object.
    await must(t, api.delete(`/vms/${mine}`), 200);
    const left = (await must(t, api.get(`/users/${dave.id}/permissions`, { accept: 'json' }), 200)).permission as any[];
    t.false(left.some((permission) => permission.vm?.id === mine), 'the removed VM took its permissions');
    const doomed = await must(t, api.post('/clusters', { name: 'doomed', data_center: { id: dc.id } }, { accept: 'json' }));
    await grant(t, api, 'clusters', doomed.id, 'UserRole', { user: dave.id });
    await must(t, api.delete(`/clusters/${doomed.id}`), 200);
    const after = (await must(t, api.get(`/users/${dave.id}/permissions`, { accept: 'json' }), 200)).permission as any[];
    t.false(after.some((permission) => permission.cluster?.id === doomed.id), 'the removed cluster took its permissions');
    t.true(after.some((permission) => permission.data_center?.id === dc.id), 'and only its own');
  });

  test.serial(`${tag} filtered lists page and count only what the user may see, and follow embeds nothing else`, async (t) => {
    const { api } = system;
    const cluster = await must(t, api.post('/clusters', { name: 'paged', data_center: { name: 'Default' } }, { accept: 'json' }));
    const frank = await addUser(t, api, 'frank');
    const ids: string[] = [];
    for (let index = 0; index < 7; index++) {
      const id = (await must(t, api.post('/vms', { name: `p-${index}`, memory: 64 * 1024 * 1024, cluster: { id: cluster.id } }, { accept: 'json' }))).id;
      ids.push(id);
      if (index % 2 === 0) await grant(t, api, 'vms', id, 'UserRole', { user: frank.id });
    }
    const page1 = await frank.api.get('/vms?max=2&search=sortby%20name', { accept: 'json', headers: { Filter: 'true' } });
    t.is(page1.headers.get('x-total-count'), '4');
    t.deepEqual(page1.body.vm.map((vm: any) => vm.name), ['p-0', 'p-2']);
    const page2 = await frank.api.get('/vms?max=2&filter=true&search=sortby%20name%20page%202', { accept: 'json' });
    t.deepEqual(page2.body.vm.map((vm: any) => vm.name), ['p-4', 'p-6']);
    t.is((await api.get('/vms?filter=true', { accept: 'json' })).headers.get('x-total-count'), (await api.get('/vms', { accept: 'json' })).headers.get('x-total-count'), "SuperUser's filter hides nothing");

    // Follow: the VMs' template is not Frank's to see, their cluster is; once the Blank template is, its VMs are, but only his.
    const followed = await frank.api.get(`/vms/${ids[0]}?follow=template,cluster`, { accept: 'json' });
    t.is(followed.status, 200, followed.text);
    t.deepEqual(Object.keys(followed.body.template).sort(), ['href', 'id'], 'the template is a reference, not embedded');
    t.is(followed.body.cluster.name, 'paged');
    const listed = await frank.api.get('/vms?follow=template', { accept: 'json' });
    t.true((listed.body.vm as any[]).every((vm) => vm.template.name === undefined));
    await grant(t, api, 'templates', blankTemplateId, 'UserRole', { user: frank.id });
    const template = await frank.api.get(`/templates/${blankTemplateId}?follow=vms`, { accept: 'json' });
    t.is(template.status, 200, template.text);
    t.deepEqual((template.body.vms.vm as any[]).map((vm) => vm.name).sort(), ['p-0', 'p-2', 'p-4', 'p-6']);
    const viaList = await frank.api.get('/templates?follow=vms', { accept: 'json' });
    t.deepEqual((viaList.body.template[0].vms.vm as any[]).map((vm) => vm.name).sort(), ['p-0', 'p-2', 'p-4', 'p-6']);
  });

  test.serial(`${tag} what each user lists and may change matches the reference evaluation of generated permission trees`, async (t) => {
    const { api } = system;
    const random = prng(database === 'sqlite' ? 11 : 12);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const json = async (path: string) => (await must(t, api.get(path, { accept: 'json' }), 200)) as any;
    const dataCenters: string[] = [];
    const clusters: string[] = [];
    const pools: string[] = [];
    for (let d = 0; d < 3; d++) dataCenters.push((await must(t, api.post('/datacenters', { name: `g-dc${d}` }, { accept: 'json' }))).id);
    for (let c = 0; c < 5; c++) clusters.push((await must(t, api.post('/clusters', { name: `g-c${c}`, data_center: { id: pick(dataCenters) } }, { accept: 'json' }))).id);
    for (let v = 0; v < 12; v++) await must(t, api.post('/vms', { name: `g-vm${v}`, memory: 64 * 1024 * 1024, cluster: { id: pick(clusters) } }, { accept: 'json' }));
    for (let p = 0; p < 2; p++) {
      const body = { name: `g-pool${p}`, size: 2, template: { name: 'Blank' }, cluster: { id: pick(clusters) } };
      pools.push((await must(t, api.post('/vmpools', body, { accept: 'json' }))).id);
    }
    await eventually(async () => ((await json('/vms?search=name%3Dg-pool*')).vm ?? []).length === 4, 'the pools to have their VMs');

    // The tree as the API shows it to the administrator, read back from each object's own document.
    const tree = new Map<string, ObjectRef[]>();
    const vms = (await json('/vms?search=name%3Dg-*')).vm as any[];
    for (const vm of vms) tree.set(objectKey({ type: 'vm', id: vm.id }), [{ type: 'cluster', id: vm.cluster.id }, ...(vm.vm_pool ? [{ type: 'vm_pool' as const, id: vm.vm_pool.id }] : [])]);
    for (const cluster of (await json('/clusters?search=name%3Dg-*')).cluster as any[]) tree.set(objectKey({ type: 'cluster', id: cluster.id }), [{ type: 'data_center', id: cluster.data_center.id }]);
    for (const pool of (await json('/vmpools?search=name%3Dg-*')).vm_pool as any[]) tree.set(objectKey({ type: 'vm_pool', id: pool.id }), [{ type: 'cluster', id: pool.cluster.id }]);
    const objects: Record<'vm' | 'cluster' | 'data_center' | 'vm_pool', string[]> = { vm: vms.map((vm) => vm.id), cluster: clusters, data_center: dataCenters, vm_pool: pools };
    const collectionOf = { vm: 'vms', cluster: 'clusters', data_center: 'datacenters', vm_pool: 'vmpools' } as const;

    const groups: string[] = [];
    for (let g = 0; g < 2; g++) groups.push((await must(t, api.post('/groups', { name: `g-group${g}` }, { accept: 'json' }))).id);
    // Every user holds a role on an empty cluster outside the lists compared, so that each may log in.
    const loginOnly = await must(t, api.post('/clusters', { name: 'login-only', data_center: { name: 'Default' } }, { accept: 'json' }));
    const people: { id: string; api: Api; groups: string[] }[] = [];
    for (let u = 0; u < 4; u++) {
      const user = await addUser(t, api, `g-user${u}`);
      await grant(t, api, 'clusters', loginOnly.id, 'UserRole', { user: user.id });
      const memberOf = groups.filter(() => random() < 0.4);
      for (const group of memberOf) await must(t, api.post(`/users/${user.id}/groups`, { id: group }, { accept: 'json' }));
      people.push({ ...user, groups: memberOf });
    }
    const grants: (ReferenceGrant & { holder: string })[] = [];
    for (let index = 0; index < 16; index++) {
      const holder = random() < 0.7 ? { user: pick(people).id } : { group: pick(groups) };
      const role = pick(['UserRole', 'UserVmManager', 'DiskCreator', 'PowerUserRole'] as const);
      const type = pick(['vm', 'vm', 'cluster', 'data_center', 'vm_pool'] as const);
      const id = pick(objects[type]);
      const response = await api.post(`/${collectionOf[type]}/${id}/permissions`, { role: { id: roleIds[role] }, ...(holder.user ? { user: { id: holder.user } } : { group: { id: holder.group } }) }, { accept: 'json' });
      t.true(response.status === 201 || response.status === 409, response.text);
      grants.push({ holder: holder.user ?? holder.group!, roleId: roleIds[role], object: { type, id } });
    }

    const outcomes = new Set<number>();
    for (const person of people) {
      const holders = new Set([person.id, ...person.groups]);
      const own = grants.filter((entry) => holders.has(entry.holder));
      const seen = (type: keyof typeof objects) => objects[type].filter((id) => sees(tree, own, { type, id })).sort();
      for (const type of ['vm', 'cluster', 'data_center', 'vm_pool'] as const) {
        const listed = ((await person.api.get(`/${collectionOf[type]}?search=name%3Dg-*`, { accept: 'json' })).body[type] ?? []) as any[];
        t.deepEqual(listed.map((item) => item.id).sort(), seen(type), `${type}s user ${person.id} lists`);
      }
      // Pages of 3 put together are the whole list, and the total counts it.
      const expected = seen('vm');
      const collected: string[] = [];
      for (let page = 1; page <= Math.max(1, Math.ceil(expected.length / 3)); page++) {
        const response = await person.api.get(`/vms?max=3&search=${encodeURIComponent(`name=g-* sortby name page ${page}`)}`, { accept: 'json' });
        t.is(response.headers.get('x-total-count'), String(expected.length));
        collected.push(...((response.body.vm ?? []) as any[]).map((vm) => vm.id));
      }
      t.deepEqual(collected.sort(), expected);
      // Each VM: unseen ones answer 404, seen ones without edit_vm_properties 403, the others take the change.
      for (const id of objects.vm) {
        const vm = { type: 'vm' as const, id };
        const status = holds(tree, own, vm, 'edit_vm_properties') ? 200 : sees(tree, own, vm) ? 403 : 404;
        outcomes.add(status);
        t.is((await person.api.put(`/vms/${id}`, { description: `by ${person.id}` }, { accept: 'json' })).status, status, `user ${person.id} PUT vm ${id}`);
      }
    }
    t.deepEqual([...outcomes].sort(), [200, 403, 404], 'the generated trees give every outcome');
  });
}
