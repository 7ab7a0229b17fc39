import { randomUUID } from 'node:crypto';
import type { ExecutionContext, TestFn } from 'ava';
import { ProcessSystem } from '../support/process-system.js';
import { adminPassword, basicAuthorization, type ApiResponse } from '../support/api.js';
import type { DatabaseKind } from '../support/scratch-database.js';
import { assertFault } from '../support/api.js';

type Test = TestFn<unknown>;

const mebibyte = 1024 * 1024;
const sixteenTiB = 16 * 1024 * 1024 * mebibyte;
const vmXml = (inner: string) => `<vm>${inner}</vm>`;
const goodVm = (name: string, memory: string | number = 256 * mebibyte, extra = '') => vmXml(`<name>${name}</name><memory>${memory}</memory><cluster><name>Default</name></cluster>${extra}`);

interface Shared {
  system: ProcessSystem;
  /** A VM that is down, on no host. */
  downVm: string;
  /** A VM that ran on the host and was stopped, so it has tasks. */
  usedVm: string;
  taskId: string;
}

/** What must not change after a refused request: the listings of VMs, tasks, clusters and data centers. */
async function snapshot(system: ProcessSystem): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const collection of ['vms', 'tasks', 'clusters', 'datacenters']) {
    const response = await system.api.get(`/${collection}`, { accept: 'json' });
    if (response.status !== 200) throw new Error(`GET /${collection} answered ${response.status}: ${response.text}`);
    out[collection] = response.text;
  }
  return out;
}

interface Case {
  name: string;
  status: number;
  detail?: RegExp;
  media?: 'xml' | 'json';
  send: (shared: Shared) => Promise<ApiResponse>;
}

/** Registers the bad-input scenarios for one database: each answers a 4xx fault and leaves the database unchanged. */
export function badInputSuite(test: Test, database: DatabaseKind): void {
  const shared = {} as Shared;
  test.before(async () => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 2048 } });
    shared.system = system;
    shared.downVm = await system.api.createVm('bad-input-down', 128);
    shared.usedVm = await system.api.createVm('bad-input-used', 128);
    const started = await system.api.action(shared.usedVm, 'start');
    if (started.status !== 200) throw new Error(`start answered ${started.status}: ${started.text}`);
    shared.taskId = started.body.action.task.id;
    const stopped = await system.api.action(shared.usedVm, 'stop');
    if (stopped.status !== 200) throw new Error(`stop answered ${stopped.status}: ${stopped.text}`);
  });
  test.after.always(async () => {
    await shared.system?.close();
  });

  const api = () => shared.system.api;
  const random = randomUUID();
  const cases: Case[] = [
    // Malformed documents.
    { name: 'malformed XML', status: 400, detail: /XML body is malformed/, send: () => api().post('/vms', '<vm><name>broken</name><memory>268435456</memory') },
    { name: 'malformed XML on update', status: 400, detail: /XML body is malformed/, send: (s) => api().put(`/vms/${s.downVm}`, '<vm><description>x</vm>') },
    { name: 'XML that is not XML at all', status: 400, send: () => api().post('/vms', 'this is not a document', { headers: { 'Content-Type': 'application/xml' } }) },
    { name: 'malformed JSON', status: 400, detail: /JSON body is malformed/, send: () => api().post('/vms', '{"name": "broken", "memory": ', { type: 'json' }) },
    { name: 'JSON that is not an object', status: 400, detail: /must be an object/, send: () => api().post('/vms', '["bad-json-array"]', { type: 'json' }) },
    { name: 'malformed JSON answered in JSON', status: 400, media: 'json', detail: /JSON body is malformed/, send: () => api().post('/vms', '{nope}', { type: 'json', accept: 'json' }) },
    { name: 'an empty body', status: 400, detail: /needs a <vm> document/, send: () => api().post('/vms', '', { headers: { 'Content-Type': 'application/xml' } }) },
    // DOCTYPE and entities.
    {
      name: 'XML with an internal entity declaration (billion laughs)',
      status: 400,
      detail: /DOCTYPE or entity/,
      send: () => api().post('/vms', `<?xml version="1.0"?><!DOCTYPE vm [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><vm><name>&lol2;</name><memory>268435456</memory><cluster><name>Default</name></cluster></vm>`),
    },
    {
      name: 'XML with an external entity (XXE)',
      status: 400,
      detail: /DOCTYPE or entity/,
      send: () => api().post('/vms', `<!DOCTYPE vm [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><vm><name>xxe</name><description>&xxe;</description><memory>268435456</memory><cluster><name>Default</name></cluster></vm>`),
    },
    { name: 'XML with a bare DOCTYPE', status: 400, detail: /DOCTYPE/, send: () => api().post('/vms', `<!DOCTYPE vm SYSTEM "http://127.0.0.1:1/vm.dtd">${goodVm('doctype-vm')}`) },
    // Wrong types and ranges.
    { name: 'memory "lots"', status: 400, detail: /vm\.memory must be a whole number/, send: () => api().post('/vms', goodVm('lots-vm', 'lots')) },
    { name: 'negative memory', status: 400, detail: /vm\.memory must be between/, send: () => api().post('/vms', goodVm('negative-vm', -1073741824)) },
    { name: 'memory over 16 TiB', status: 400, detail: /vm\.memory must be between/, send: () => api().post('/vms', goodVm('huge-vm', sixteenTiB + mebibyte)) },
    { name: 'memory beyond 2^64', status: 400, detail: /vm\.memory/, send: () => api().post('/vms', goodVm('huger-vm', '184467440737095516160')) },
    { name: 'fractional memory', status: 400, detail: /vm\.memory must be a whole number/, send: () => api().post('/vms', goodVm('fraction-vm', '1073741824.5')) },
    { name: 'memory not a whole number of MiB', status: 400, detail: /multiple of/, send: () => api().post('/vms', goodVm('odd-vm', 256 * mebibyte + 1)) },
    { name: 'memory as a negative JSON number', status: 400, detail: /vm\.memory/, send: () => api().post('/vms', { name: 'json-negative', memory: -5, cluster: { name: 'Default' } }) },
    { name: 'cores 0', status: 400, detail: /vm\.cpu\.topology\.cores must be between 1/, send: () => api().post('/vms', goodVm('zero-cores', 256 * mebibyte, '<cpu><topology><sockets>1</sockets><cores>0</cores><threads>1</threads></topology></cpu>')) },
    { name: 'sockets "two"', status: 400, detail: /sockets must be a whole number/, send: () => api().post('/vms', goodVm('two-sockets', 256 * mebibyte, '<cpu><topology><sockets>two</sockets></topology></cpu>')) },
    { name: 'too many virtual CPUs', status: 400, detail: /at most 512/, send: () => api().post('/vms', goodVm('wide-vm', 256 * mebibyte, '<cpu><topology><sockets>16</sockets><cores>16</cores><threads>4</threads></topology></cpu>')) },
    { name: 'an unknown display type', status: 400, detail: /display\.type must be one of/, send: () => api().post('/vms', goodVm('rdp-vm', 256 * mebibyte, '<display><type>rdp</type></display>')) },
    { name: 'a name with spaces and markup', status: 400, detail: /vm\.name may contain only/, send: () => api().post('/vms', goodVm('bad name &amp; &lt;b&gt;')) },
    { name: 'a list where a name belongs (JSON)', status: 400, detail: /vm\.name must be text/, send: () => api().post('/vms', { name: ['a', 'b'], memory: '268435456', cluster: { name: 'Default' } }) },
    { name: 'a cluster given as text', status: 400, detail: /vm\.cluster must be a single element/, send: () => api().post('/vms', vmXml('<name>text-cluster</name><memory>268435456</memory><cluster>Default</cluster>')) },
    { name: 'a wrong type on update', status: 400, detail: /vm\.memory/, send: (s) => api().put(`/vms/${s.downVm}`, '<vm><memory>lots</memory></vm>') },
    { name: 'async that is not a boolean', status: 400, detail: /async/, send: (s) => api().post(`/vms/${s.usedVm}/start?async=maybe`, '<action/>') },
    { name: 'local that is not a boolean', status: 400, detail: /data_center\.local must be true or false/, send: () => api().post('/datacenters', '<data_center><name>yes-dc</name><local>yes</local></data_center>') },
    // Missing required fields.
    { name: 'a VM without a name', status: 400, detail: /vm\.name is required/, send: () => api().post('/vms', vmXml('<memory>268435456</memory><cluster><name>Default</name></cluster>')) },
    { name: 'a VM from a template that does not exist', status: 404, detail: /template/, send: () => api().post('/vms', vmXml('<name>no-template</name><cluster><name>Default</name></cluster><template><name>nowhere</name></template>')) },
    { name: 'a VM without a cluster', status: 400, detail: /vm\.cluster is required/, send: () => api().post('/vms', vmXml('<name>no-cluster</name><memory>268435456</memory>')) },
    { name: 'an empty <vm/>', status: 400, detail: /is required/, send: () => api().post('/vms', '<vm/>') },
    { name: 'a cluster reference with neither id nor name', status: 400, detail: /needs an id or a name/, send: () => api().post('/vms', vmXml('<name>anon-cluster</name><memory>268435456</memory><cluster><description>x</description></cluster>')) },
    { name: 'a cluster without a data center', status: 400, detail: /cluster\.data_center is required/, send: () => api().post('/clusters', '<cluster><name>orphan</name></cluster>') },
    { name: 'a cluster in a data center that does not exist', status: 404, detail: /data center/, send: () => api().post('/clusters', '<cluster><name>lost</name><data_center><name>nowhere</name></data_center></cluster>') },
    { name: 'a VM in a cluster that does not exist', status: 404, detail: /cluster nowhere/, send: () => api().post('/vms', vmXml('<name>lost-vm</name><memory>268435456</memory><cluster><name>nowhere</name></cluster>')) },
    // Wrong document element.
    { name: '<host> posted to /vms', status: 400, detail: /document element must be <vm>/, send: () => api().post('/vms', '<host><name>h</name></host>') },
    { name: 'two document elements', status: 400, send: () => api().post('/vms', `${goodVm('twin-1')}${goodVm('twin-2')}`) },
    { name: '<vm> posted to /clusters', status: 400, detail: /document element must be <cluster>/, send: () => api().post('/clusters', goodVm('not-a-cluster')) },
    { name: '<vm> sent as an action', status: 400, detail: /document element must be <action>/, send: (s) => api().post(`/vms/${s.downVm}/start`, goodVm('not-an-action')) },
    // Unknown actions and ids.
    { name: 'an unknown action', status: 404, detail: /frobnicate/, send: (s) => api().post(`/vms/${s.downVm}/frobnicate`, '<action/>') },
    { name: 'remove is not an action', status: 404, detail: /remove/, send: (s) => api().post(`/vms/${s.downVm}/remove`, '<action/>') },
    { name: 'an unknown task action', status: 400, detail: /task\.action must be one of/, send: (s) => api().post(`/vms/${s.downVm}/tasks`, '<task><action>frobnicate</action></task>') },
    { name: 'GET of an unknown VM', status: 404, detail: new RegExp(`VM ${random} does not exist`), send: () => api().get(`/vms/${random}`) },
    { name: 'PUT of an unknown VM', status: 404, detail: new RegExp(random), send: () => api().put(`/vms/${random}`, '<vm><description>ghost</description></vm>') },
    { name: 'DELETE of an unknown VM', status: 404, detail: new RegExp(random), send: () => api().delete(`/vms/${random}`) },
    { name: 'an action on an unknown VM', status: 404, detail: new RegExp(random), send: () => api().post(`/vms/${random}/start`, '<action/>') },
    { name: 'a task for an unknown VM', status: 404, detail: new RegExp(random), send: () => api().post(`/vms/${random}/tasks`, '<task><action>start</action></task>') },
    { name: 'an id that is not a UUID', status: 404, send: () => api().get('/vms/..%2F..%2Fetc%2Fpasswd') },
    { name: 'GET of an unknown task', status: 404, detail: new RegExp(random), send: () => api().get(`/tasks/${random}`) },
    { name: 'DELETE of an unknown task', status: 404, detail: new RegExp(random), send: () => api().delete(`/tasks/${random}`) },
    { name: 'GET of an unknown host', status: 404, detail: new RegExp(random), send: () => api().get(`/hosts/${random}`) },
    { name: 'DELETE of an unknown host', status: 404, detail: new RegExp(random), send: () => api().delete(`/hosts/${random}`) },
    { name: 'PUT of an unknown cluster', status: 404, detail: new RegExp(random), send: () => api().put(`/clusters/${random}`, '<cluster><description>ghost</description></cluster>') },
    { name: 'DELETE of an unknown data center', status: 404, detail: new RegExp(random), send: () => api().delete(`/datacenters/${random}`) },
    // Documents built to break the parser or reach past it.
    {
      name: 'JSON nested 100000 levels deep',
      status: 400,
      detail: /nests deeper than/,
      send: () => api().post('/vms', `{"name":"deep-json","memory":"268435456","cluster":{"name":"Default"},"x":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`, { type: 'json' }),
    },
    { name: 'JSON nested in arrays 100000 levels deep', status: 400, detail: /nests deeper than/, send: () => api().post('/vms', `{"name":"deep-array","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, { type: 'json' }) },
    { name: 'XML nested 100000 levels deep', status: 400, send: () => api().post('/vms', `<vm><name>deep-xml</name>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</vm>`) },
    { name: 'a JSON __proto__ member', status: 400, detail: /__proto__/, send: () => api().post('/vms', '{"__proto__":{"name":"via-prototype"},"memory":"268435456","cluster":{"name":"Default"}}', { type: 'json' }) },
    { name: 'a JSON constructor member', status: 400, detail: /constructor/, send: () => api().post('/vms', '{"name":"ctor-json","memory":"268435456","cluster":{"name":"Default","constructor":"x"}}', { type: 'json' }) },
    { name: 'an XML __proto__ element', status: 400, detail: /__proto__/, send: () => api().post('/vms', vmXml('<__proto__><name>via-prototype</name></__proto__><memory>268435456</memory><cluster><name>Default</name></cluster>')) },
    { name: 'an XML constructor element', status: 400, detail: /constructor/, send: () => api().post('/vms', goodVm('ctor-xml', 256 * mebibyte, '<constructor>x</constructor>')) },
    { name: 'a NUL in a description (JSON)', status: 400, detail: /vm\.description must not contain control characters/, send: () => api().post('/vms', '{"name":"nul-vm","description":"a\\u0000b","memory":"268435456","cluster":{"name":"Default"}}', { type: 'json' }) },
    { name: 'a NUL in a cluster reference (JSON)', status: 400, detail: /vm\.cluster\.name must not contain control characters/, send: () => api().post('/vms', '{"name":"nul-ref","memory":"268435456","cluster":{"name":"Def\\u0000ault"}}', { type: 'json' }) },
    { name: 'a NUL in a cluster id on update (JSON)', status: 400, detail: /control characters/, send: (s) => api().put(`/vms/${s.downVm}`, '{"cluster":{"id":"\\u0000"}}', { type: 'json' }) },
    { name: 'an escape character in a data center description', status: 400, detail: /control characters/, send: () => api().post('/datacenters', { name: 'escape-dc', description: 'a\u001b[31mred' }) },
    { name: 'a NUL in a VM id in the path', status: 400, detail: /path contains control characters/, send: () => api().get('/vms/%00') },
    { name: 'a NUL in a cluster id in the path', status: 400, detail: /path contains control characters/, send: () => api().put('/clusters/a%00b', '<cluster><description>x</description></cluster>') },
    { name: 'a NUL in a task id in the path', status: 400, detail: /path contains control characters/, send: () => api().delete('/tasks/%00') },
    { name: 'a NUL in an action path', status: 400, detail: /path contains control characters/, send: () => api().post('/vms/%00/start', '<action/>') },
    { name: 'a NUL in a search', status: 400, detail: /query parameter search contains control characters/, send: () => api().get('/vms?search=name%3Dbad%00name') },
    { name: 'a NUL in the Basic user name', status: 401, send: () => api().get('/vms', { auth: basicAuthorization('admin\u0000@internal', adminPassword) }) },
    // Size, state, uniqueness, media type, query parameters.
    {
      name: 'a body over 1 MiB',
      status: 413,
      detail: /larger than the limit of 1048576 bytes/,
      send: () => api().post('/vms', goodVm('oversize', 256 * mebibyte, `<description>${'x'.repeat(mebibyte)}</description>`)),
    },
    {
      name: 'a chunked body over 1 MiB',
      status: 413,
      detail: /larger than the limit/,
      send: async () => {
        const body = goodVm('oversize-chunked', 256 * mebibyte, `<description>${'y'.repeat(mebibyte + 100)}</description>`);
        const chunks = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let offset = 0; offset < body.length; offset += 64 * 1024) controller.enqueue(new TextEncoder().encode(body.slice(offset, offset + 64 * 1024)));
            controller.close();
          },
        });
        const response = await api().fetch(`${api().root}/vms`, {
          method: 'POST',
          headers: { Authorization: api().authorization, 'Content-Type': 'application/xml' },
          body: chunks,
          duplex: 'half',
        });
        const text = await response.text();
        return { status: response.status, headers: response.headers, text, body: { fault: { detail: /<detail>([^<]*)<\/detail>/.exec(text)?.[1] } } };
      },
    },
    { name: 'an oversize update', status: 413, send: (s) => api().put(`/vms/${s.downVm}`, `<vm><description>${'z'.repeat(mebibyte + 1)}</description></vm>`) },
    { name: 'stopping a VM that is down', status: 409, detail: /cannot stop VM bad-input-down: it is down/, send: (s) => api().post(`/vms/${s.downVm}/stop`, '<action/>') },
    { name: 'suspending a VM that is down', status: 409, detail: /cannot suspend VM bad-input-used/, send: (s) => api().post(`/vms/${s.usedVm}/suspend`, '<action/>') },
    { name: 'a duplicate VM name', status: 409, detail: /already exists/, send: () => api().post('/vms', goodVm('bad-input-down')) },
    { name: 'renaming a VM to a taken name', status: 409, detail: /already exists/, send: (s) => api().put(`/vms/${s.usedVm}`, '<vm><name>bad-input-down</name></vm>') },
    { name: 'a duplicate cluster name', status: 409, detail: /already exists/, send: () => api().post('/clusters', '<cluster><name>Default</name><data_center><name>Default</name></data_center></cluster>') },
    { name: 'a duplicate data center name', status: 409, detail: /already exists/, send: () => api().post('/datacenters', '<data_center><name>Default</name></data_center>') },
    { name: 'an unsupported content type', status: 415, detail: /text\/csv is not supported/, send: () => api().post('/vms', 'name,memory\nx,1', { headers: { 'Content-Type': 'text/csv' } }) },
    { name: 'an unsupported content type on an action', status: 415, send: (s) => api().post(`/vms/${s.downVm}/start`, 'start', { headers: { 'Content-Type': 'application/octet-stream' } }) },
    { name: '?wait=abc', status: 400, detail: /wait must be a whole number/, send: (s) => api().get(`/tasks/${s.taskId}?wait=abc`) },
    { name: '?wait=-1', status: 400, detail: /wait/, send: (s) => api().get(`/tasks/${s.taskId}?wait=-1`) },
    { name: '?wait beyond an hour', status: 400, detail: /wait must be between 0 and 3600/, send: (s) => api().get(`/tasks/${s.taskId}?wait=3601`) },
    { name: 'a search on a field VMs do not have', status: 400, detail: /unknown field "colour"; the valid fields are: .*memory/, send: () => api().get('/vms?search=colour%3Dred') },
    { name: 'a search with a syntax error', status: 400, detail: /search: at 7: /, send: () => api().get(`/vms?search=${encodeURIComponent('memory>')}`) },
    { name: 'an unknown attribute filter', status: 400, detail: /colour is neither a known option nor a field/, send: () => api().get('/vms?colour=red') },
    { name: 'an unknown follow link', status: 400, detail: /vm has no link "disk"; it has cluster, disk_attachments/, send: () => api().get('/vms?follow=disk') },
    // Names every object has through its prototype are no parameters, fields or links.
    { name: '?constructor=x on a collection', status: 400, detail: /query parameter constructor is neither a known option nor a field of vm/, send: () => api().get('/vms?constructor=x') },
    { name: '?__proto__=x on a collection', status: 400, detail: /query parameter __proto__ is neither/, send: () => api().get('/clusters?__proto__=x') },
    { name: '?toString=x below an object', status: 400, detail: /query parameter toString is neither/, send: (s) => api().get(`/vms/${s.usedVm}/tasks?toString=x`) },
    { name: 'a search on the field constructor', status: 400, detail: /unknown field "constructor"/, send: () => api().get(`/hosts?search=${encodeURIComponent('constructor=x')}`) },
    { name: 'a sort by __proto__', status: 400, detail: /unknown field "__proto__"/, send: () => api().get(`/vms?search=${encodeURIComponent('sortby __proto__')}`) },
    { name: 'follow=toString on an object', status: 400, detail: /vm has no link "toString"/, send: (s) => api().get(`/vms/${s.downVm}?follow=toString`) },
    { name: 'follow=cluster.constructor', status: 400, detail: /cluster has no link "constructor"/, send: () => api().get('/vms?follow=cluster.constructor') },
    { name: 'follow=__proto__ on a task', status: 400, detail: /task has no link "__proto__"/, send: (s) => api().get(`/tasks/${s.taskId}?follow=__proto__`) },
    { name: 'a huge max', status: 400, detail: /max must be between -1/, send: () => api().get('/vms?max=99999999999999') },
    { name: 'a method the collection does not have', status: 405, send: () => api().request('PATCH', '/vms') },
    { name: 'a method the object does not have', status: 405, detail: /PUT is not allowed on .*; allowed: (?!.*PUT)/, send: () => api().put('/hosts/anything', '<host><name>renamed</name></host>') },
    { name: 'an If-Match that names no version of the VM', status: 412, detail: /changed since the entity tag/, send: (s) => api().delete(`/vms/${s.downVm}`, { headers: { 'If-Match': '"no-such-version"' } }) },
  ];

  for (const scenario of cases) {
    test.serial(`[${database}] ${scenario.name} is refused with a ${scenario.status} fault and changes nothing`, async (t: ExecutionContext) => {
      const before = await snapshot(shared.system);
      const response = await scenario.send(shared);
      assertFault(t, response, scenario.status, scenario.detail, scenario.media ?? 'xml');
      t.deepEqual(await snapshot(shared.system), before, 'the VMs, tasks, clusters and data centers are unchanged');
    });
  }

  test.serial(`[${database}] after all the bad input the controller logged no unexpected error and still works`, async (t) => {
    const { system } = shared;
    t.false(system.controllerOutput.join('').includes('"request failed"'), 'no request ended in an internal error');
    const vmId = await system.api.createVm('bad-input-after', 128);
    t.is((await system.api.action(vmId, 'start')).status, 200);
    t.is(await system.api.vmStatus(vmId), 'up');
    t.is((await system.api.action(vmId, 'stop')).status, 200);
  });
}
