import test from 'ava';
import { apiRoutes } from '../../../controller/api/server.js';
import type { Services } from '../../../controller/api/services.js';
import { requirementOf, routeRequirements, vmActionPermits } from '../../../controller/api/permits.js';
import { internalDomain, parseUserName, permits, roleHasPermit, roles, superUserRoleId } from '../../../controller/rules/authorization.js';
import { vmActions } from '../../../controller/rules/vm-actions.js';

test('permits and roles have unique ids and names, and every role has known permits, each once', (t) => {
  t.is(new Set(permits.map((permit) => permit.id)).size, permits.length);
  t.is(new Set(permits.map((permit) => permit.name)).size, permits.length);
  t.is(new Set(roles.map((role) => role.id)).size, roles.length);
  t.is(new Set(roles.map((role) => role.name)).size, roles.length);
  const known = new Set<string>(permits.map((permit) => permit.name));
  for (const role of roles) {
    t.true(role.permits.every((permit) => known.has(permit)), `${role.name} has only known permits`);
    t.is(new Set(role.permits).size, role.permits.length, `${role.name} names each permit once`);
    t.true((role.permits as readonly string[]).includes('login'), `${role.name} may log in`);
  }
});

test("the built-in roles carry oVirt's ids, role types and permits", (t) => {
  const byName = new Map(roles.map((role) => [role.name as string, role]));
  t.is(superUserRoleId, '00000000-0000-0000-0000-000000000001');
  t.is(byName.get('UserRole')?.id, '00000000-0000-0000-0001-000000000001');
  t.is(byName.get('PowerUserRole')?.id, '00000000-0000-0000-0001-000000000002');
  t.is(byName.get('UserVmManager')?.id, 'def00006-0000-0000-0000-def000000006');
  t.is(byName.get('ClusterAdmin')?.id, 'def00001-0000-0000-0000-def000000001');
  t.is(byName.get('DataCenterAdmin')?.id, 'def00002-0000-0000-0000-def000000002');
  t.is(byName.get('ReadOnlyAdmin')?.id, 'def0000c-0000-0000-0000-def00000000c');
  t.deepEqual(roles.filter((role) => !role.administrative).map((role) => role.name).sort(), ['DiskCreator', 'DiskOperator', 'PowerUserRole', 'TemplateCreator', 'UserRole', 'UserVmManager', 'VmCreator']);
  t.is(byName.get('SuperUser')!.permits.length, permits.length, 'SuperUser has every permit');
  t.true(roleHasPermit(byName.get('UserRole')!.id, 'run_vm') && !roleHasPermit(byName.get('UserRole')!.id, 'delete_vm'));
  t.false(roleHasPermit(byName.get('DataCenterAdmin')!.id, 'create_storage_domain'), 'DataCenterAdmin is everything below a data center except storage');
  t.deepEqual(roles.filter((role) => roleHasPermit(role.id, 'manipulate_users')).map((role) => role.id), [superUserRoleId], 'only SuperUser manages users');
  t.deepEqual(byName.get('ReadOnlyAdmin')!.permits, ['login']);
});

test('every route has a requirement, and every requirement is of a route', (t) => {
  const declared = apiRoutes({} as Services).declared().map((route) => `${route.method.toUpperCase()} ${route.path}`);
  t.deepEqual([...routeRequirements.keys()].filter((key) => !declared.includes(key)), [], 'requirements of no route');
  t.throws(() => requirementOf('post', '/vms/:id/hibernate'), { message: /no entry in the table of route requirements/ });
  for (const action of vmActions) t.truthy(vmActionPermits[action], `VM action ${action} has a permit`);
});

test('user names are of the internal domain', (t) => {
  t.deepEqual(parseUserName('joe'), { principal: 'joe', userName: 'joe@internal' });
  t.deepEqual(parseUserName('joe.b@internal'), { principal: 'joe.b', userName: 'joe.b@internal' });
  t.deepEqual(parseUserName('joe@internal-authz'), { principal: 'joe', userName: 'joe@internal' });
  t.is(parseUserName('joe@example.com'), undefined);
  t.is(parseUserName('jo e'), undefined);
  t.is(internalDomain.id, '696e7465726e616c');
});
