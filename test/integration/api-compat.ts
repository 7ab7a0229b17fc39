import type { TestFn } from 'ava';
import { XMLParser } from 'fast-xml-parser';
import { Api, adminPassword, assertFault, basicAuthorization, type ApiResponse } from '../support/api.js';
import { ProcessSystem } from '../support/process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const goodBasic = basicAuthorization('admin@internal', adminPassword);
const vmActionNames = ['start', 'stop', 'shutdown', 'suspend', 'resume', 'reboot', 'reset', 'migrate', 'cancelmigration'];

/** Parses XML keeping every repeatable element a list, for checking the raw document shape. */
const strictXml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name, jpath) => name === 'link' || /^(vms\.vm|hosts\.host|clusters\.cluster|data_centers\.data_center|tasks\.task)$/.test(String(jpath)) });


/** One HTTP/1.1 exchange on a raw socket: writes `request` and collects everything until the server closes or `timeoutMs` passes. */
function rawExchange(api: Api, request: string, timeoutMs = 3000): Promise<{ data: string; closed: boolean; elapsedMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = api.connect();
    let data = '';
    let closed = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data, closed, elapsedMs: Date.now() - started });
    }, timeoutMs);
    socket.on('data', (chunk) => (data += chunk.toString('utf8')));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ data, closed, elapsedMs: Date.now() - started });
    });
    socket.write(request);
  });
}

function parseRaw(data: string): { status: number; headers: Record<string, string>; body: string } {
  const split = data.indexOf('\r\n\r\n');
  const head = data.slice(0, split).split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? '')?.[1]);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, body: data.slice(split + 4) };
}

/** What a request for the API root looks like without following redirects. */
async function rootAt(api: Api, path: string): Promise<{ status: number; location: string | null; text: string }> {
  const response = await api.fetch(path, { headers: { Authorization: goodBasic }, redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), text: await response.text() };
}

async function ssoToken(system: ProcessSystem, password = adminPassword): Promise<Response> {
  return system.api.fetch('/ovirt-engine/sso/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'password', scope: 'ovirt-app-api', username: 'admin@internal', password }).toString(),
  });
}

interface Shared {
  system: ProcessSystem;
  vmId: string;
}

/** Registers the oVirt compatibility checks against one controller with one host and one VM. */
export function compatSuite(test: Test, database: DatabaseKind): void {
  const shared = {} as Shared;
  test.before(async () => {
    shared.system = await ProcessSystem.start(database, { alpha: { memoryMiB: 4096 } });
    shared.vmId = await shared.system.api.createVm('compat-vm', 256, '<display><type>vnc</type></display>');
  });
  test.after.always(async () => {
    await shared.system?.close();
  });
  const tag = `[${database}]`;

  test.serial(`${tag} answers XML when there is no Accept header`, async (t) => {
    const response = await shared.system.api.get('/vms', { accept: 'none' });
    t.is(response.status, 200);
    t.regex(response.headers.get('content-type') ?? '', /^application\/xml/);
    t.regex(response.text, /^<\?xml version="1\.0" encoding="UTF-8"[^>]*\?>\s*<vms>/);
    t.is(response.body.vms.vm.length, 1);
  });

  test.serial(`${tag} answers JSON with Accept: application/json`, async (t) => {
    const response = await shared.system.api.get('/vms', { accept: 'json' });
    t.is(response.status, 200);
    t.regex(response.headers.get('content-type') ?? '', /^application\/json/);
    t.notThrows(() => JSON.parse(response.text));
    t.is(response.body.vm[0].name, 'compat-vm');
  });

  test.serial(`${tag} ?accept= overrides the Accept header in both directions`, async (t) => {
    const json = await shared.system.api.get('/vms?accept=application/json', { accept: 'xml' });
    t.regex(json.headers.get('content-type') ?? '', /^application\/json/);
    t.is(JSON.parse(json.text).vm[0].id, shared.vmId);
    const xml = await shared.system.api.get('/vms?accept=application/xml', { accept: 'json' });
    t.regex(xml.headers.get('content-type') ?? '', /^application\/xml/);
    t.is(xml.body.vms.vm[0].id, shared.vmId);
    const jsonFault = await shared.system.api.get('/vms/nope?accept=application/json');
    assertFault(t, jsonFault, 404, /nope/, 'json');
  });

  test.serial(`${tag} the Accept header is weighed by its q-values, and its parameters do not get in the way`, async (t) => {
    const cases: Array<[string, 'xml' | 'json']> = [
      ['application/json;q=0.1, application/xml', 'xml'],
      ['application/xml;q=0.5, application/json', 'json'],
      ['application/json; charset=utf-8', 'json'],
      ['APPLICATION/JSON', 'json'],
      ['application/json, */*;q=0.1', 'json'],
      ['application/json;q=0', 'xml'],
      ['*/*', 'xml'],
      ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'xml'],
      ['text/plain', 'xml'],
    ];
    for (const [accept, expected] of cases) {
      const response = await shared.system.api.get('/clusters', { headers: { Accept: accept } });
      t.is(response.status, 200);
      t.regex(response.headers.get('content-type') ?? '', expected === 'json' ? /^application\/json/ : /^application\/xml/, `Accept: ${accept}`);
    }
  });

  test.serial(`${tag} JSON has oVirt's shape: collections keyed by element, link lists, id and href on entities`, async (t) => {
    const { system, vmId } = shared;
    const list = await system.api.get('/vms', { accept: 'json' });
    t.deepEqual(Object.keys(list.body), ['vm']);
    t.true(Array.isArray(list.body.vm));
    const vm = list.body.vm[0];
    t.is(vm.id, vmId);
    t.is(vm.href, `/ovirt-engine/api/vms/${vmId}`);
    t.true(Array.isArray(vm.link));
    for (const entry of vm.link) t.deepEqual(Object.keys(entry).sort(), ['href', 'rel']);
    t.deepEqual(vm.link.map((entry: any) => entry.rel), ['cdroms', 'diskattachments', 'disks', 'graphicsconsoles', 'nics', 'numanodes', 'permissions', 'snapshots', 'statistics', 'tags', 'tasks']);
    t.deepEqual(vm.actions.link.map((entry: any) => entry.rel), vmActionNames);
    for (const entry of vm.actions.link) t.is(entry.href, `/ovirt-engine/api/vms/${vmId}/${entry.rel}`);
    t.deepEqual(vm.display, { type: 'vnc' });
    t.deepEqual(vm.cluster, { href: `/ovirt-engine/api/clusters/${vm.cluster.id}`, id: vm.cluster.id });

    const root = await system.api.get('/', { accept: 'json' });
    t.true(Array.isArray(root.body.link));
    for (const entry of root.body.link) t.deepEqual(Object.keys(entry).sort(), ['href', 'rel']);
    for (const [collection, element] of [['hosts', 'host'], ['clusters', 'cluster'], ['datacenters', 'data_center'], ['tasks', 'task']]) {
      const response = await system.api.get(`/${collection}`, { accept: 'json' });
      t.deepEqual(Object.keys(response.body), [element], `${collection} is {"${element}": [...]}`);
      t.true(Array.isArray(response.body[element]));
    }
    const empty = await system.api.get('/vms?search=name%3Dno-such-vm', { accept: 'json' });
    t.deepEqual(empty.body, { vm: [] });
  });

  test.serial(`${tag} XML entities carry id and href attributes, sub-collection links, actions and a display`, async (t) => {
    const { system, vmId } = shared;
    const response = await system.api.get('/vms', { accept: 'none' });
    const doc = strictXml.parse(response.text);
    const vm = doc.vms.vm[0];
    t.is(vm['@id'], vmId);
    t.is(vm['@href'], `/ovirt-engine/api/vms/${vmId}`);
    t.is(vm.name, 'compat-vm');
    t.deepEqual(
      vm.link,
      ['cdroms', 'diskattachments', 'disks', 'graphicsconsoles', 'nics', 'numanodes', 'permissions', 'snapshots', 'statistics', 'tags', 'tasks'].map((rel) => ({ '@href': `/ovirt-engine/api/vms/${vmId}/${rel}`, '@rel': rel })),
    );
    t.deepEqual(
      vm.actions.link.map((entry: any) => entry['@rel']),
      vmActionNames,
    );
    for (const entry of vm.actions.link) t.is(entry['@href'], `/ovirt-engine/api/vms/${vmId}/${entry['@rel']}`);
    t.is(vm.display.type, 'vnc');
    t.is(vm.status, 'down');
    t.regex(vm.cluster['@id'], uuidPattern);
    const emptyElements = [...response.text.matchAll(/<([a-z_]+)\/>|<([a-z_]+)><\/\2>/g)].map((match) => match[1] ?? match[2]);
    t.deepEqual(emptyElements, ['comment', 'sso'], 'no empty text libgovirt reads, open and closed or not (it asserts on an empty <description/>); only the comment and sso (a structure without single sign-on methods), which it does not read');

    const single = strictXml.parse((await system.api.get(`/vms/${vmId}`)).text);
    t.is(single.vm['@id'], vmId);
    t.is(single.vm['@href'], `/ovirt-engine/api/vms/${vmId}`);
    t.is(single.vm.display.type, 'vnc');

    const hosts = strictXml.parse((await system.api.get('/hosts')).text);
    const host = hosts.hosts.host[0];
    t.regex(host['@id'], uuidPattern);
    t.is(host['@href'], `/ovirt-engine/api/hosts/${host['@id']}`);
    t.deepEqual(
      host.link,
      ['permissions', 'storagedomains', 'tags', 'tasks', 'vms'].map((rel) => ({ '@href': `/ovirt-engine/api/hosts/${host['@id']}/${rel}`, '@rel': rel })),
    );

    const dcs = strictXml.parse((await system.api.get('/datacenters')).text);
    const dc = dcs.data_centers.data_center[0];
    t.is(dc['@href'], `/ovirt-engine/api/datacenters/${dc['@id']}`);
    t.deepEqual(
      dc.link,
      ['clusters', 'networks', 'permissions', 'storagedomains'].map((rel) => ({ '@href': `/ovirt-engine/api/datacenters/${dc['@id']}/${rel}`, '@rel': rel })),
    );
    const clusters = strictXml.parse((await system.api.get('/clusters')).text);
    const cluster = clusters.clusters.cluster[0];
    t.is(cluster['@href'], `/ovirt-engine/api/clusters/${cluster['@id']}`);
    t.is(cluster.data_center['@id'], dc['@id']);
  });

  test.serial(`${tag} every link the API root offers answers 200`, async (t) => {
    const root = await shared.system.api.get('/', { accept: 'json' });
    for (const entry of root.body.link) {
      const query = entry.rel === 'events/search' ? 'vm.name=compat-vm' : 'name=compat-vm';
      const href = String(entry.href).replace('{query}', encodeURIComponent(query));
      const response = await shared.system.api.get(href, { accept: 'json' });
      t.is(response.status, 200, `${entry.rel} ${href}: ${response.text}`);
    }
  });

  test.serial(`${tag} DELETE answers 200 with a body, never 204`, async (t) => {
    const { system } = shared;
    const vmId = await system.api.createVm('compat-doomed', 128);
    const vm = await system.api.delete(`/vms/${vmId}`);
    t.is(vm.status, 200);
    t.is(vm.body.action.status, 'complete');
    t.regex(vm.text, /^<\?xml[^>]*\?>\s*<action>/);
    const dc = await system.api.post('/datacenters', '<data_center><name>compat-dc</name></data_center>');
    t.is(dc.status, 201, dc.text);
    const cluster = await system.api.post('/clusters', '<cluster><name>compat-cluster</name><data_center><name>compat-dc</name></data_center></cluster>');
    t.is(cluster.status, 201, cluster.text);
    const clusterDelete = await system.api.delete(`/clusters/${cluster.body.cluster.id}`, { accept: 'json' });
    t.is(clusterDelete.status, 200);
    t.is(clusterDelete.body.status, 'complete');
    const dcDelete = await system.api.delete(`/datacenters/${dc.body.data_center.id}`);
    t.is(dcDelete.status, 200);
    t.true(dcDelete.text.length > 0);
    t.is(dcDelete.body.action.status, 'complete');
  });

  test.serial(`${tag} errors are <fault> documents with a reason and a detail`, async (t) => {
    const { system } = shared;
    assertFault(t, await system.api.get('/vms/no-such-id'), 404, /no-such-id/);
    assertFault(t, await system.api.get('/no-such-collection'), 404);
    assertFault(t, await system.api.post('/vms', '<vm><name>x</name></vm>'), 400, /cluster/);
    assertFault(t, await system.api.request('PATCH', '/vms'), 405);
    const allowed = (response: ApiResponse) => (response.headers.get('allow') ?? '').split(/,\s*/).sort();
    const patchVm = await system.api.request('PATCH', `/vms/${shared.vmId}`);
    assertFault(t, patchVm, 405, /PATCH is not allowed/);
    t.deepEqual(allowed(patchVm), ['DELETE', 'GET', 'HEAD', 'PUT'], 'Allow names the methods of the VM');
    const hostId = (await system.api.hosts())[0].id;
    const putHost = await system.api.put(`/hosts/${hostId}`, '<host><name>renamed</name></host>');
    assertFault(t, putHost, 405);
    t.deepEqual(allowed(putHost), ['DELETE', 'GET', 'HEAD'], 'a host takes no PUT, and Allow does not claim one');
    const getAction = await system.api.get(`/vms/${shared.vmId}/start`);
    assertFault(t, getAction, 405);
    t.deepEqual(allowed(getAction), ['POST']);
    assertFault(t, await system.api.post(`/vms/${shared.vmId}/frobnicate`, '<action/>'), 404, /frobnicate matches no resource/);
    assertFault(t, await system.api.get(`/vms/${shared.vmId}/frobnicate`), 404);
    assertFault(t, await system.api.get('/vms', { auth: null }), 401);
    assertFault(t, await system.api.get('/vms/no-such-id', { accept: 'json' }), 404, /no-such-id/, 'json');
    assertFault(t, await system.api.get('/vms', { auth: null, accept: 'json' }), 401, undefined, 'json');
    assertFault(t, await system.api.get('/ovirt-engine/elsewhere'), 404);
  });

  test.serial(`${tag} Version: 4 and /v4 paths are accepted, and hrefs then carry /v4`, async (t) => {
    const { system, vmId } = shared;
    const header = await system.api.get('/vms', { headers: { Version: '4' } });
    t.is(header.status, 200);
    t.is(header.body.vms.vm[0].href, `/ovirt-engine/api/vms/${vmId}`);
    const path = await system.api.get('/ovirt-engine/api/v4/vms', { headers: { Version: '4' } });
    t.is(path.status, 200);
    t.is(path.body.vms.vm[0].href, `/ovirt-engine/api/v4/vms/${vmId}`);
    t.true(path.body.vms.vm[0].actions.link.every((entry: any) => entry.href.startsWith(`/ovirt-engine/api/v4/vms/${vmId}/`)));
    const root = await system.api.get('/ovirt-engine/api/v4', { accept: 'json' });
    t.is(root.status, 200);
    t.true(root.body.link.every((entry: any) => entry.href.startsWith('/ovirt-engine/api/v4/')));
    const single = await system.api.get(`/api/v4/vms/${vmId}`, { accept: 'json' });
    t.is(single.body.href, `/api/v4/vms/${vmId}`);
    const created = await system.api.post('/ovirt-engine/api/v4/datacenters', '<data_center><name>compat-v4</name></data_center>');
    t.is(created.status, 201, created.text);
    t.is(created.headers.get('location'), `/ovirt-engine/api/v4/datacenters/${created.body.data_center.id}`);
    t.is((await system.api.delete(`/ovirt-engine/api/v4/datacenters/${created.body.data_center.id}`)).status, 200);
  });

  test.serial(`${tag} Version: 3 and /v3 paths are refused with a 400 fault`, async (t) => {
    const { system } = shared;
    assertFault(t, await system.api.get('/vms', { headers: { Version: '3' } }), 400, /version 3/);
    assertFault(t, await system.api.get('/ovirt-engine/api/v3/vms'), 400, /version 3/);
    assertFault(t, await system.api.get('/ovirt-engine/api/v3'), 400, /version 3/);
    assertFault(t, await system.api.get('/api/v3/vms', { accept: 'json' }), 400, /version 3/, 'json');
    assertFault(t, await system.api.get('/vms', { headers: { Version: '3' }, auth: null }), 400, /version 3/);
  });

  test.serial(`${tag} Correlation-Id is echoed, generated when absent, and recorded on the task`, async (t) => {
    const { system } = shared;
    const echoed = await system.api.get('/vms', { headers: { 'Correlation-Id': 'compat-correlation-1' } });
    t.is(echoed.headers.get('correlation-id'), 'compat-correlation-1');
    const generated = await system.api.get('/vms');
    t.regex(generated.headers.get('correlation-id') ?? '', uuidPattern);
    const another = await system.api.get('/vms');
    t.not(another.headers.get('correlation-id'), generated.headers.get('correlation-id'));
    const onFault = await system.api.get('/vms/missing', { headers: { 'Correlation-Id': 'compat-correlation-2' } });
    t.is(onFault.status, 404);
    t.is(onFault.headers.get('correlation-id'), 'compat-correlation-2');
    const onUnauthorized = await system.api.get('/vms', { auth: null, headers: { 'Correlation-Id': 'compat-correlation-3' } });
    t.is(onUnauthorized.headers.get('correlation-id'), 'compat-correlation-3');

    const vmId = await system.api.createVm('compat-correlated', 128);
    const started = await system.api.post(`/vms/${vmId}/start`, '<action/>', { headers: { 'Correlation-Id': 'compat-start-1' } });
    t.is(started.status, 200, started.text);
    t.is(started.headers.get('correlation-id'), 'compat-start-1');
    const task = await system.api.get(`/tasks/${started.body.action.task.id}`);
    t.is(task.body.task.correlation_id, 'compat-start-1');
    t.is((await system.api.action(vmId, 'stop')).status, 200);
    t.is((await system.api.delete(`/vms/${vmId}`)).status, 200);
  });

  test.serial(`${tag} the API root answers directly, with or without a trailing slash, at /ovirt-engine/api and /api`, async (t) => {
    const answers = new Map<string, string>();
    for (const path of ['/ovirt-engine/api', '/ovirt-engine/api/', '/api', '/api/']) {
      const response = await rootAt(shared.system.api, path);
      t.is(response.status, 200, `${path}: ${response.text}`);
      t.is(response.location, null, `${path} does not redirect`);
      t.regex(response.text, /<api>/);
      const prefix = path.startsWith('/api') ? '/api' : '/ovirt-engine/api';
      const hrefs = [...response.text.matchAll(/href="([^"]+)"/g)].map((match) => match[1]!);
      t.true(hrefs.length >= 9);
      t.true(hrefs.every((href) => href.startsWith(`${prefix}/`)), `${path}: hrefs use ${prefix}`);
      if (prefix === '/api') t.false(response.text.includes('/ovirt-engine/'));
      answers.set(path, response.text.replace(/<time>[^<]*<\/time>/, '').replaceAll('/ovirt-engine/api/', '/api/'));
    }
    t.is(new Set(answers.values()).size, 1, 'all four answer the same document apart from the prefix');
    const collection = await shared.system.api.get('/api/vms/', { accept: 'json' });
    t.is(collection.status, 200);
    t.is(collection.body.vm[0].href, `/api/vms/${shared.vmId}`);
  });

  test.serial(`${tag} a GET that declares a body it never sends is answered at once and the server keeps serving`, async (t) => {
    const { system } = shared;
    const headers = (auth: string | undefined) =>
      `GET /ovirt-engine/api/vms HTTP/1.1\r\nHost: 127.0.0.1:${system.apiPort}\r\n${auth ? `Authorization: ${auth}\r\n` : ''}Content-Type: application/xml\r\nContent-Length: 17\r\nConnection: Keep-Alive\r\nAccept-Encoding: gzip, deflate\r\nPrefer: persistent-auth\r\nFilter: false\r\nAll-Content: true\r\n\r\n`;

    // libgovirt's first request carries its body; the 401 must close the connection...
    const challenge = await rawExchange(system.api, `${headers(undefined)}<action></action>`);
    t.true(challenge.closed, 'the server closed the connection after the 401');
    const first = parseRaw(challenge.data);
    t.is(first.status, 401);
    t.is(first.headers['www-authenticate'], 'Basic realm="RESTAPI"');
    t.is(first.headers.connection, 'close');
    t.regex(first.body, /<fault>/);

    // ...and its retry declares the same 17 bytes but sends none.
    const retry = await rawExchange(system.api, headers(goodBasic));
    t.true(retry.closed, 'the server closed the connection instead of waiting for the body');
    t.true(retry.elapsedMs < 2000, `answered in ${retry.elapsedMs} ms`);
    const second = parseRaw(retry.data);
    t.is(second.status, 200, retry.data);
    t.is(second.headers.connection, 'close');
    t.is(Number(second.headers['content-length']), Buffer.byteLength(second.body));
    t.regex(second.body, /<vms><vm href="\/ovirt-engine\/api\/vms\//);

    const deleteWithBody = await rawExchange(system.api, `DELETE /ovirt-engine/api/vms/no-such-vm HTTP/1.1\r\nHost: x\r\nAuthorization: ${goodBasic}\r\nContent-Length: 17\r\n\r\n`);
    t.true(deleteWithBody.closed);
    t.is(parseRaw(deleteWithBody.data).status, 404);

    const normal = await system.api.get('/vms');
    t.is(normal.status, 200);
    t.is(normal.body.vms.vm[0].name, 'compat-vm');
  });

  test.serial(`${tag} Basic authentication: a challenge without credentials, 401 on a bad password, 200 on a good one`, async (t) => {
    const { system } = shared;
    const none = await system.api.get('/vms', { auth: null });
    assertFault(t, none, 401);
    t.is(none.headers.get('www-authenticate'), 'Basic realm="RESTAPI"');
    const rootNone = await system.api.get('/', { auth: null });
    t.is(rootNone.status, 401);
    t.is(rootNone.headers.get('www-authenticate'), 'Basic realm="RESTAPI"');
    const bad = await system.api.get('/vms', { auth: basicAuthorization('admin@internal', 'wrong') });
    assertFault(t, bad, 401);
    t.is(bad.headers.get('www-authenticate'), 'Basic realm="RESTAPI"');
    assertFault(t, await system.api.get('/vms', { auth: basicAuthorization('nobody@internal', adminPassword) }), 401);
    assertFault(t, await system.api.get('/vms', { auth: 'Basic !!!' }), 401);
    assertFault(t, await system.api.get('/vms', { auth: 'Digest username="admin"' }), 401);
    const good = await system.api.get('/vms', { auth: goodBasic });
    t.is(good.status, 200);
    t.is(good.body.vms.vm[0].id, shared.vmId);
    t.is((await system.api.get('/vms', { auth: basicAuthorization('admin@internal-authz', adminPassword) })).status, 200, 'oVirt\'s -authz profile name is accepted');
  });

  test.serial(`${tag} SSO: the password grant issues a bearer token that works until logout`, async (t) => {
    const { system } = shared;
    const issued = await ssoToken(system);
    t.is(issued.status, 200);
    t.regex(issued.headers.get('content-type') ?? '', /^application\/json/);
    const token = (await issued.json()) as Record<string, string>;
    t.true(typeof token.access_token === 'string' && token.access_token.length >= 20);
    t.is(token.token_type, 'bearer');
    t.is(token.scope, 'ovirt-app-api');
    t.true(Number(token.exp) > Date.now(), `exp ${token.exp} is in the future`);

    const refused = await ssoToken(system, 'wrong');
    t.is(refused.status, 400);
    t.regex(refused.headers.get('content-type') ?? '', /^application\/json/);
    const error = (await refused.json()) as Record<string, string>;
    t.is(error.error, 'access_denied');
    t.true(typeof error.error_description === 'string' && error.error_description.length > 0);

    const bearer = system.api.as(`Bearer ${token.access_token}`);
    const withToken = await bearer.get('/vms');
    t.is(withToken.status, 200);
    t.is(withToken.body.vms.vm[0].id, shared.vmId);
    t.is((await bearer.get('/')).status, 200);
    assertFault(t, await system.api.get('/vms', { auth: 'Bearer not-a-token' }), 401);

    const logout = await system.api.fetch(`/ovirt-engine/services/sso-logout`, { method: 'POST', headers: { Authorization: `Bearer ${token.access_token}` } });
    t.is(logout.status, 200);
    t.deepEqual(await logout.json(), {});
    const afterLogout = await bearer.get('/vms');
    assertFault(t, afterLogout, 401, /token/);
    t.is(afterLogout.headers.get('www-authenticate'), 'Basic realm="RESTAPI"');

    // A token can also be revoked by naming it in the logout form.
    const second = (await (await ssoToken(system)).json()) as Record<string, string>;
    const secondApi = system.api.as(`Bearer ${second.access_token}`);
    t.is((await secondApi.get('/vms')).status, 200);
    const formLogout = await system.api.fetch(`/ovirt-engine/services/sso-logout`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(second.access_token!)}`,
    });
    t.is(formLogout.status, 200);
    t.is((await secondApi.get('/vms')).status, 401);

    const nul = await system.api.fetch(`/ovirt-engine/sso/oauth/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `grant_type=password&username=admin%00@internal&password=${adminPassword}` });
    t.is(nul.status, 400);
    t.is(((await nul.json()) as Record<string, string>).error, 'access_denied');

    const wrongGrant = await system.api.fetch(`/ovirt-engine/sso/oauth/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' });
    t.is(wrongGrant.status, 400);
    t.is(((await wrongGrant.json()) as Record<string, string>).error, 'unsupported_grant_type');
  });

  test.serial(`${tag} the API root has product_info, a summary with host and VM counts, and a link per collection`, async (t) => {
    const { system } = shared;
    const response = await system.api.get('/');
    t.is(response.status, 200);
    const api = strictXml.parse(response.text).api;
    t.is(api.product_info.name, 'Drover');
    t.regex(api.product_info.version.full_version, /^\d+\.\d+\.\d+/);
    t.is(api.product_info.version.major, '4');
    t.deepEqual(api.summary.hosts, { active: '1', total: '1' });
    const vms = (await system.api.get('/vms', { accept: 'json' })).body.vm.length;
    t.is(api.summary.vms.total, String(vms));
    t.is(api.summary.vms.active, '0');
    const links = new Map<string, string>(api.link.map((entry: any) => [entry['@rel'], entry['@href']]));
    for (const collection of ['vms', 'hosts', 'clusters', 'datacenters', 'tasks']) {
      t.is(links.get(collection), `/ovirt-engine/api/${collection}`, `rel=${collection}`);
    }
    t.is(links.get('vms/search'), '/ovirt-engine/api/vms?search={query}');
    t.true(links.get('vms/search')!.endsWith('{query}'));
    for (const searchable of ['hosts', 'clusters', 'datacenters']) t.true(links.get(`${searchable}/search`)?.endsWith('{query}'), `${searchable}/search`);

    // The search link works the way libgovirt uses it: {query} replaced by the URI-escaped query.
    const search = await system.api.get(links.get('vms/search')!.replace('{query}', encodeURIComponent('name=compat-vm')));
    t.is(search.status, 200);
    t.deepEqual(search.body.vms.vm.map((vm: any) => vm.id), [shared.vmId]);
  });

  test.serial(`${tag} a VM search with a * wildcard finds the VMs whose names match`, async (t) => {
    const { system } = shared;
    const wildcard = await system.api.get(`/vms?search=${encodeURIComponent('name=compat-v*')}`, { accept: 'json' });
    t.is(wildcard.status, 200, wildcard.text);
    t.deepEqual(wildcard.body.vm?.map((vm: any) => vm.id), [shared.vmId]);
    const quoted = await system.api.get(`/vms?search=${encodeURIComponent('name="*-vm"')}`, { accept: 'json' });
    t.is(quoted.status, 200, quoted.text);
    t.deepEqual(quoted.body.vm?.map((vm: any) => vm.name), ['compat-vm']);
    const none = await system.api.get(`/vms?search=${encodeURIComponent('name=zzz*')}`, { accept: 'json' });
    t.is(none.status, 200, none.text);
    t.deepEqual(none.body, { vm: [] });
  });
}

/** The few compatibility checks worth repeating on another database. */
export function compatSmoke(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] smoke: XML and JSON, /v4, faults, SSO and the root summary`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 2048 } });
    t.teardown(() => system.close());
    const vmId = await system.api.createVm('smoke-vm', 128);
    const xml = await system.api.get('/vms');
    t.regex(xml.headers.get('content-type') ?? '', /^application\/xml/);
    t.is(xml.body.vms.vm[0].id, vmId);
    t.is(xml.body.vms.vm[0].display.type, 'vnc');
    const json = await system.api.get('/ovirt-engine/api/v4/vms', { accept: 'json' });
    t.is(json.body.vm[0].href, `/ovirt-engine/api/v4/vms/${vmId}`);
    const wildcard = await system.api.get(`/vms?search=${encodeURIComponent('name=smoke-*')}`, { accept: 'json' });
    t.is(wildcard.status, 200, wildcard.text);
    t.deepEqual(wildcard.body.vm.map((vm: any) => vm.id), [vmId]);
    assertFault(t, await system.api.get('/vms/missing'), 404);
    assertFault(t, await system.api.get('/vms', { headers: { Version: '3' } }), 400);
    const token = (await (await ssoToken(system)).json()) as Record<string, string>;
    const bearer = system.api.as(`Bearer ${token.access_token}`);
    const root = await bearer.get('/', { accept: 'json' });
    t.is(root.status, 200);
    t.deepEqual(root.body.summary, { hosts: { active: '1', total: '1' }, vms: { total: '1', active: '0' } });
    const removed = await system.api.delete(`/vms/${vmId}`);
    t.is(removed.status, 200);
    t.is(removed.body.action.status, 'complete');
  });
}
