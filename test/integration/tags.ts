import type { ExecutionContext, TestFn } from 'ava';
import { assertFault, basicAuthorization, type Api, type ApiResponse } from '../support/api.js';
import { InProcessSystem } from '../support/in-process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';
import { eventually } from '../support/eventually.js';
import { selectRows } from '../../controller/db/store.js';

type Test = TestFn<unknown>;

const rootId = '00000000-0000-0000-0000-000000000000';
const userRoleId = '00000000-0000-0000-0001-000000000001';

async function must(t: ExecutionContext, response: Promise<ApiResponse>, status = 201): Promise<any> {
  const answered = await response;
  t.is(answered.status, status, answered.text);
  return answered.body;
}

/** The tags of a list answer (JSON), by name. */
async function tagNames(api: Api, path: string): Promise<string[]> {
  const response = await api.get(path, { accept: 'json' });
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${response.text}`);
  return ((response.body.tag ?? []) as any[]).map((tag) => tag.name).sort();
}

/** The names of the objects a search of a collection finds (JSON). */
async function found(api: Api, collection: 'vms' | 'hosts' | 'templates', search: string): Promise<string[]> {
  const response = await api.get(`/${collection}?search=${encodeURIComponent(search)}`, { accept: 'json' });
  if (response.status !== 200) throw new Error(`search ${search} answered ${response.status}: ${response.text}`);
  return ((response.body[collection.slice(0, -1)] ?? []) as any[]).map((item) => item.name).sort();
}

/**
 * oVirt's tags with the requests oVirt's clients send: the Python SDK and
 * Ansible's ovirt_tag (XML, tags and parents by name), go-ovirt-client and
 * Terraform (XML, assignments by id), and JSON.
 */
export function tagsSuite(test: Test, database: DatabaseKind): void {
  const label = `[${database}]`;
  let system: InProcessSystem;
  let hostId: string;
  const ids: Record<string, string> = {};
  const vms: Record<string, string> = {};
  let templateId: string;

  test.before(async () => {
    system = await InProcessSystem.start(database, { label: 'tags' });
    ({ hostId } = await system.addAgent({ name: 'alpha', memoryMiB: 2048 }));
    for (const name of ['web1', 'web2', 'db1']) vms[name] = await system.api.createVm(name, 64);
    const template = await system.api.post('/templates', `<template><name>tpl</name><vm id="${vms.db1}"/></template>`, { accept: 'json' });
    if (template.status !== 201 && template.status !== 202) throw new Error(`creating a template answered ${template.status}: ${template.text}`);
    templateId = template.body.id;
    await eventually(async () => (await system.api.get(`/templates/${templateId}`, { accept: 'json' })).body.status === 'ok', 'the template to be made');
  });
  test.after.always(async () => {
    await system?.close();
  });

  test.serial(`${label} tags are created below the root tag or below a parent named by id or name; names are unique`, async (t) => {
    const { api } = system;
    const initial = await must(t, api.get('/tags', { accept: 'json' }), 200);
    t.deepEqual(initial.tag, [{ href: `/ovirt-engine/api/tags/${rootId}`, id: rootId, name: 'root', description: 'root' }], "oVirt's root tag is listed, without a parent");

    // The Python SDK and go-ovirt-client: name and description.
    const web = await must(t, api.post('/tags', '<tag><name>web</name><description>Web servers</description></tag>'));
    ids.web = web.tag.id;
    t.is(web.tag.href, `/ovirt-engine/api/tags/${ids.web}`);
    t.is(web.tag.description, 'Web servers');
    t.deepEqual(web.tag.parent, { href: `/ovirt-engine/api/tags/${rootId}`, id: rootId }, 'a tag without a parent is below the root');
    // Ansible's ovirt_tag: the parent by name.
    const frontend = await must(t, api.post('/tags', '<tag><name>frontend</name><parent><name>web</name></parent></tag>'));
    ids.frontend = frontend.tag.id;
    t.is(frontend.tag.parent.id, ids.web);
    t.is(frontend.tag.description, undefined, 'an empty description is left out');
    // JSON, the parent by id.
    const edge = await must(t, api.post('/tags', { name: 'edge', description: 'Edge proxies', parent: { id: ids.frontend } }, { accept: 'json' }));
    ids.edge = edge.id;
    t.like(edge, { name: 'edge', description: 'Edge proxies', parent: { id: ids.frontend } });
    const storage = await must(t, api.post('/tags', '<tag><name>storage</name></tag>'));
    ids.storage = storage.tag.id;

    assertFault(t, await api.post('/tags', '<tag><name>web</name></tag>'), 409, /a tag named web exists already/);
    assertFault(t, await api.post('/tags', { name: 'root' }, { accept: 'json' }), 409, /a tag named root exists already/, 'json');
    assertFault(t, await api.post('/tags', '<tag><name>orphan</name><parent><name>no-such-tag</name></parent></tag>'), 404, /tag no-such-tag does not exist/);
    assertFault(t, await api.post('/tags', '<tag><name>orphan</name><parent id="6d0b8a2e-0000-4000-8000-000000000000"/></tag>'), 404);
    assertFault(t, await api.post('/tags', '<tag><description>no name</description></tag>'), 400, /tag\.name is required/);
    assertFault(t, await api.post('/tags', '<tag><name>two words</name></tag>'), 400, /tag\.name may contain only/);
    assertFault(t, await api.post('/tags', '<tag><name>orphan</name><parent/></tag>'), 400, /tag\.parent needs an id or a name/);
    assertFault(t, await api.post('/tags', '<tag><name>orphan</name>'), 400);
    t.deepEqual(await tagNames(api, '/tags'), ['edge', 'frontend', 'root', 'storage', 'web'], 'refused requests wrote nothing');
  });

  test.serial(`${label} tags are read one by one and listed with search name= and max, in XML and JSON`, async (t) => {
    const { api } = system;
    const one = await must(t, api.get(`/tags/${ids.edge}`), 200);
    t.like(one.tag, { id: ids.edge, name: 'edge', description: 'Edge proxies', parent: { id: ids.frontend, href: `/ovirt-engine/api/tags/${ids.frontend}` } });
    const root = await must(t, api.get(`/tags/${rootId}`, { accept: 'json' }), 200);
    t.deepEqual(root, { href: `/ovirt-engine/api/tags/${rootId}`, id: rootId, name: 'root', description: 'root' });
    assertFault(t, await api.get('/tags/6d0b8a2e-0000-4000-8000-000000000000'), 404, /tag 6d0b8a2e-0000-4000-8000-000000000000 does not exist/);

    t.deepEqual(await tagNames(api, '/tags?search=name%3Dweb'), ['web']);
    t.deepEqual(await tagNames(api, '/tags?search=NAME%3DWEB'), ['web'], 'search field names and values ignore case');
    t.deepEqual(await tagNames(api, '/tags?search=name%3D*e*'), ['edge', 'frontend', 'storage', 'web']);
    t.is((await tagNames(api, '/tags?max=2')).length, 2);
    assertFault(t, await api.get('/tags?search=colour%3Dred'), 400, /colour/);
    assertFault(t, await api.get('/tags?max=many'), 400, /max/);
    const xml = await api.get('/tags?search=name%3Dstorage');
    t.regex(xml.text, new RegExp(`<tags><tag href="/ovirt-engine/api/tags/${ids.storage}" id="${ids.storage}"><name>storage</name><parent href="/ovirt-engine/api/tags/${rootId}" id="${rootId}"/></tag></tags>`));
    const root_ = await must(t, api.get('/', { accept: 'json' }), 200);
    t.true(root_.link.some((entry: any) => entry.rel === 'tags' && entry.href === '/ovirt-engine/api/tags'), 'the API root links the tags');
  });

  test.serial(`${label} PUT renames a tag, changes its description and moves it; a tag cannot go below itself or its descendants, and the root cannot change`, async (t) => {
    const { api } = system;
    // Ansible's ovirt_tag sends the whole tag, its parent by name.
    const renamed = await must(t, api.put(`/tags/${ids.storage}`, '<tag><name>store</name><description>Storage</description><parent><name>web</name></parent></tag>'), 200);
    t.like(renamed.tag, { id: ids.storage, name: 'store', description: 'Storage', parent: { id: ids.web } });
    const back = await must(t, api.put(`/tags/${ids.storage}`, { name: 'storage', parent: { id: rootId } }, { accept: 'json' }), 200);
    t.like(back, { name: 'storage', description: 'Storage', parent: { id: rootId } }, 'what the request leaves out stays');

    assertFault(t, await api.put(`/tags/${ids.web}`, `<tag><parent id="${ids.web}"/></tag>`), 409, /cannot be moved below itself/);
    assertFault(t, await api.put(`/tags/${ids.web}`, '<tag><parent><name>edge</name></parent></tag>'), 409, /cannot be moved below its descendant edge/);
    assertFault(t, await api.put(`/tags/${ids.web}`, { name: 'frontend' }, { accept: 'json' }), 409, /a tag named frontend exists already/, 'json');
    assertFault(t, await api.put(`/tags/${rootId}`, '<tag><name>top</name></tag>'), 409, /root tag cannot be changed/);
    assertFault(t, await api.delete(`/tags/${rootId}`), 409, /root tag cannot be removed/);
    assertFault(t, await api.put(`/tags/${ids.web}`, '<tag><parent><name>no-such-tag</name></parent></tag>'), 404);
    const web = await must(t, api.get(`/tags/${ids.web}`, { accept: 'json' }), 200);
    t.like(web, { name: 'web', description: 'Web servers', parent: { id: rootId } }, 'refused changes changed nothing');
    const stale = await api.put(`/tags/${ids.web}`, '<tag><description>x</description></tag>', { headers: { 'If-Match': '"stale"' } });
    assertFault(t, stale, 412);
  });

  test.serial(`${label} tags are assigned to VMs, hosts and templates by id or by name, listed with a link back, and taken off`, async (t) => {
    const { api } = system;
    // go-ovirt-client and Terraform: by id.
    const byId = await must(t, api.post(`/vms/${vms.web1}/tags`, `<tag id="${ids.frontend}"/>`));
    t.like(byId.tag, { id: ids.frontend, name: 'frontend', href: `/ovirt-engine/api/vms/${vms.web1}/tags/${ids.frontend}`, vm: { id: vms.web1, href: `/ovirt-engine/api/vms/${vms.web1}` } });
    // The Python SDK and Ansible: by name.
    await must(t, api.post(`/vms/${vms.web1}/tags`, '<tag><name>storage</name></tag>'));
    await must(t, api.post(`/vms/${vms.web2}/tags`, '<tag><name>edge</name></tag>'));
    await must(t, api.post(`/vms/${vms.db1}/tags`, { name: 'storage' }, { accept: 'json' }));
    const again = await must(t, api.post(`/vms/${vms.web1}/tags`, `<tag id="${ids.frontend}"/>`));
    t.is(again.tag.id, ids.frontend, 'assigning a tag again is harmless, as in oVirt');
    const host = await must(t, api.post(`/hosts/${hostId}/tags`, '<tag><name>web</name></tag>'));
    t.like(host.tag, { id: ids.web, host: { id: hostId, href: `/ovirt-engine/api/hosts/${hostId}` } });
    const template = await must(t, api.post(`/templates/${templateId}/tags`, { name: 'edge' }, { accept: 'json' }));
    t.like(template, { id: ids.edge, href: `/ovirt-engine/api/templates/${templateId}/tags/${ids.edge}`, template: { id: templateId } });
    await must(t, api.post(`/templates/${templateId}/tags`, `<tag id="${ids.storage}"/>`));

    assertFault(t, await api.post(`/vms/${vms.web1}/tags`, '<tag><name>no-such-tag</name></tag>'), 404, /tag no-such-tag does not exist/);
    assertFault(t, await api.post(`/vms/${vms.web1}/tags`, `<tag id="${rootId}"/>`), 400, /root tag cannot be assigned/);
    assertFault(t, await api.post(`/vms/${vms.web1}/tags`, '<tag/>'), 400, /needs an id or a name/);
    assertFault(t, await api.post('/vms/6d0b8a2e-0000-4000-8000-000000000000/tags', '<tag><name>web</name></tag>'), 404, /vm 6d0b8a2e-0000-4000-8000-000000000000 does not exist/);

    t.deepEqual(await tagNames(api, `/vms/${vms.web1}/tags`), ['frontend', 'storage']);
    t.deepEqual(await tagNames(api, `/hosts/${hostId}/tags`), ['web']);
    t.deepEqual(await tagNames(api, `/templates/${templateId}/tags`), ['edge', 'storage']);
    const xml = await api.get(`/vms/${vms.web2}/tags`);
    t.regex(xml.text, new RegExp(`<tags><tag href="/ovirt-engine/api/vms/${vms.web2}/tags/${ids.edge}" id="${ids.edge}"><name>edge</name><description>Edge proxies</description><parent href="/ovirt-engine/api/tags/${ids.frontend}" id="${ids.frontend}"/><vm href="/ovirt-engine/api/vms/${vms.web2}" id="${vms.web2}"/></tag></tags>`));
    const single = await must(t, api.get(`/vms/${vms.web2}/tags/${ids.edge}`, { accept: 'json' }), 200);
    t.like(single, { id: ids.edge, vm: { id: vms.web2 } });
    assertFault(t, await api.get(`/vms/${vms.web2}/tags/${ids.web}`), 404);
    const vm = await api.vm(vms.web1);
    t.true(vm.link.some((entry: any) => entry.rel === 'tags' && entry.href === `/ovirt-engine/api/vms/${vms.web1}/tags`), 'a VM links its tags');

    await must(t, api.post(`/vms/${vms.db1}/tags`, '<tag><name>web</name></tag>'));
    await must(t, api.delete(`/vms/${vms.db1}/tags/${ids.web}`), 200);
    t.deepEqual(await tagNames(api, `/vms/${vms.db1}/tags`), ['storage'], 'the tag is taken off, the other stays');
    assertFault(t, await api.delete(`/vms/${vms.db1}/tags/${ids.web}`), 404);
  });

  test.serial(`${label} search tag= finds VMs, hosts and templates tagged with the tag or a tag below it, whatever the field name's case`, async (t) => {
    const { api } = system;
    t.deepEqual(await found(api, 'vms', 'tag=web'), ['web1', 'web2'], 'web1 has frontend and web2 edge, both below web');
    t.deepEqual(await found(api, 'vms', 'tag=frontend'), ['web1', 'web2']);
    t.deepEqual(await found(api, 'vms', 'tag=edge'), ['web2']);
    t.deepEqual(await found(api, 'vms', 'Tag=STORAGE'), ['db1', 'web1']);
    t.deepEqual(await found(api, 'vms', 'tag!=web'), ['db1']);
    t.deepEqual(await found(api, 'vms', 'tag=web and tag=storage'), ['web1']);
    t.deepEqual(await found(api, 'vms', 'tag=fr*'), ['web1', 'web2']);
    t.deepEqual(await found(api, 'hosts', 'tag=web'), ['alpha']);
    t.deepEqual(await found(api, 'hosts', 'TAG=edge'), []);
    t.deepEqual(await found(api, 'templates', 'tag=web'), ['tpl']);
    const filtered = await api.get('/vms?tag=edge', { accept: 'json' });
    t.deepEqual(filtered.body.vm.map((item: any) => item.name), ['web2'], 'tag is an attribute filter too');
  });

  test.serial(`${label} removing a tag removes the tags below it and their assignments`, async (t) => {
    const { api } = system;
    await must(t, api.delete(`/tags/${ids.frontend}`), 200);
    t.deepEqual(await tagNames(api, '/tags'), ['root', 'storage', 'web'], 'edge went with its parent frontend');
    assertFault(t, await api.get(`/tags/${ids.edge}`), 404);
    t.deepEqual(await tagNames(api, `/vms/${vms.web1}/tags`), ['storage']);
    t.deepEqual(await tagNames(api, `/vms/${vms.web2}/tags`), []);
    t.deepEqual(await found(api, 'vms', 'tag=web'), []);
    const [left] = await selectRows<{ count: number | string }>(system.controller.orm, 'select count(*) as count from vm_tags where tag_id in (?, ?)', [ids.frontend, ids.edge]);
    t.is(Number(left!.count), 0, 'no assignment of a removed tag is left');
  });

  test.serial(`${label} removing a VM, a host or a template removes its assignments`, async (t) => {
    const { api } = system;
    const count = async (table: 'vm_tags' | 'host_tags' | 'template_tags', column: string, id: string) =>
      Number((await selectRows<{ count: number | string }>(system.controller.orm, `select count(*) as count from ${table} where ${column} = ?`, [id]))[0]!.count);
    t.is(await count('vm_tags', 'vm_id', vms.db1), 1);
    await must(t, api.delete(`/vms/${vms.db1}`), 200);
    t.is(await count('vm_tags', 'vm_id', vms.db1), 0);
    t.deepEqual(await found(api, 'vms', 'tag=storage'), ['web1']);
    t.is(await count('host_tags', 'host_id', hostId), 1);
    await must(t, api.delete(`/hosts/${hostId}`), 200);
    t.is(await count('host_tags', 'host_id', hostId), 0);
    t.is(await count('template_tags', 'template_id', templateId), 1, 'the template kept storage when edge went');
    await must(t, api.delete(`/templates/${templateId}`), 200);
    t.is(await count('template_tags', 'template_id', templateId), 0);
    t.deepEqual(await tagNames(api, '/tags'), ['root', 'storage', 'web'], 'the tags themselves stay');
  });

  test.serial(`${label} a UserRole user reads tags but cannot create, change, remove or assign them (oVirt's tag_management on the system)`, async (t) => {
    const { api } = system;
    const user = await must(t, api.post('/users', { user_name: 'tagless@internal', password: 'user-secret-1' }, { accept: 'json' }));
    await must(t, api.post(`/vms/${vms.web1}/permissions`, { role: { id: userRoleId }, user: { id: user.id } }, { accept: 'json' }));
    const tagless = api.as(basicAuthorization('tagless@internal', 'user-secret-1'));
    t.deepEqual(await tagNames(tagless, '/tags'), ['root', 'storage', 'web']);
    t.deepEqual(await tagNames(tagless, `/vms/${vms.web1}/tags`), ['storage'], 'the user sees the tags of a VM they see');
    assertFault(t, await tagless.post('/tags', '<tag><name>mine</name></tag>'), 403, /tag_management/);
    assertFault(t, await tagless.put(`/tags/${ids.web}`, '<tag><name>mine</name></tag>'), 403, /tag_management/);
    assertFault(t, await tagless.delete(`/tags/${ids.web}`), 403, /tag_management/);
    assertFault(t, await tagless.post(`/vms/${vms.web1}/tags`, '<tag><name>web</name></tag>'), 403, /tag_management/);
    assertFault(t, await tagless.delete(`/vms/${vms.web1}/tags/${ids.storage}`), 403, /tag_management/);
    assertFault(t, await tagless.get(`/vms/${vms.web2}/tags`), 404, /vm .* does not exist/);
    t.deepEqual(await tagNames(api, '/tags'), ['root', 'storage', 'web'], 'nothing changed');
    t.deepEqual(await tagNames(api, `/vms/${vms.web1}/tags`), ['storage']);
  });
}
