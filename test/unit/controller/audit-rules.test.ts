import test from 'ava';
import { apiRoutes } from '../../../controller/api/server.js';
import type { Services } from '../../../controller/api/services.js';
import { auditRuleOf } from '../../../controller/api/audit.js';
import { eventKinds, objectCodes } from '../../../controller/rules/events.js';

const writeRoutes = () => apiRoutes({} as Services).declared().filter((route) => route.method !== 'get');

test('every write route of the API has an audit rule, read from the shape of its path', (t) => {
  const routes = writeRoutes();
  t.true(routes.length > 60, `${routes.length} write routes`);
  for (const route of routes) t.notThrows(() => auditRuleOf(route.method, route.path), `${route.method.toUpperCase()} ${route.path}`);
});

test('creations, changes, removals and actions are told apart, with the object a nested route is about and its parent', (t) => {
  t.deepEqual(auditRuleOf('post', '/vms'), { kind: 'create', object: 'vm' });
  t.deepEqual(auditRuleOf('put', '/clusters/:id'), { kind: 'update', object: 'cluster', param: 'id' });
  t.deepEqual(auditRuleOf('delete', '/vms/:id/nics/:nic'), { kind: 'delete', object: 'nic', param: 'nic', parent: { object: 'vm', param: 'id' } });
  t.deepEqual(auditRuleOf('post', '/vms/:id/diskattachments'), { kind: 'create', object: 'disk_attachment', parent: { object: 'vm', param: 'id' } });
  t.deepEqual(auditRuleOf('post', '/vms/:id/tags'), { kind: 'create', object: 'tag_assignment', parent: { object: 'vm', param: 'id' } });
  t.deepEqual(auditRuleOf('post', '/vms/:id/start'), { kind: 'action', object: 'vm', param: 'id', event: 'vm_start_requested', action: 'start' });
  t.deepEqual(auditRuleOf('post', '/hosts/:id/deactivate'), { kind: 'action', object: 'host', param: 'id', event: 'host_maintenance_requested', action: 'deactivate' });
  t.deepEqual(auditRuleOf('post', '/datacenters/:dc/storagedomains/:id/activate'), { kind: 'action', object: 'storage_domain', param: 'id', event: 'action_requested', action: 'activate' });
  t.deepEqual(auditRuleOf('post', '/datacenters/:dc/storagedomains'), { kind: 'create', object: 'storage_domain_attachment', parent: { object: 'data_center', param: 'dc' } });
  t.deepEqual(auditRuleOf('delete', '/datacenters/:dc/storagedomains/:id'), { kind: 'delete', object: 'storage_domain_attachment', param: 'id', parent: { object: 'data_center', param: 'dc' } });
  t.deepEqual(auditRuleOf('post', '/events'), { kind: 'none' });
  t.throws(() => auditRuleOf('post', '/planets'), { message: /no audit rule/ });
});

test("codes are oVirt's where oVirt has one and Drover's own from 100000 up; no two kinds of Drover's own share a code", (t) => {
  const own = [...Object.values(eventKinds).map((kind) => kind.code), ...Object.values(objectCodes).flatMap((codes) => [codes.created, codes.updated, codes.deleted])].filter((code) => code >= 100_000);
  t.is(new Set(own).size, own.length);
  t.true(Object.values(eventKinds).every((kind) => kind.code === 0 || kind.code < 20_000 || kind.code >= 100_000));
});
