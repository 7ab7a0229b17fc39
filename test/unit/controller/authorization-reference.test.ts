import test from 'ava';
import { aboveAndSelf, holds, objectKey, sees, type ObjectRef, type ObjectTree } from '../../../controller/rules/authorization-reference.js';
import { roles } from '../../../controller/rules/authorization.js';

const role = (name: string) => roles.find((candidate) => candidate.name === name)!.id;
const vm: ObjectRef = { type: 'vm', id: 'v1' };
const pooled: ObjectRef = { type: 'vm', id: 'v2' };
const disk: ObjectRef = { type: 'disk', id: 'd1' };
const tree: ObjectTree = new Map([
  [objectKey({ type: 'cluster', id: 'c1' }), [{ type: 'data_center', id: 'dc1' }]],
  [objectKey({ type: 'vm_pool', id: 'p1' }), [{ type: 'cluster', id: 'c1' }]],
  [objectKey(vm), [{ type: 'cluster', id: 'c1' }]],
  [objectKey(pooled), [{ type: 'cluster', id: 'c1' }, { type: 'vm_pool', id: 'p1' }]],
  [objectKey({ type: 'storage_domain', id: 's1' }), [{ type: 'data_center', id: 'dc2' }]],
  [objectKey(disk), [{ type: 'storage_domain', id: 's1' }, vm]],
]);

test('an object is below its parents, theirs, and the system', (t) => {
  t.deepEqual([...aboveAndSelf(tree, disk)].sort(), ['cluster:c1', 'data_center:dc1', 'data_center:dc2', 'disk:d1', 'storage_domain:s1', 'system:', 'vm:v1']);
  t.deepEqual([...aboveAndSelf(tree, { type: 'data_center', id: 'dc9' })].sort(), ['data_center:dc9', 'system:']);
});

test('a grant shows its object, everything below it, and the containers above a VM, pool or cluster; nothing beside it', (t) => {
  const onCluster = [{ roleId: role('UserRole'), object: { type: 'cluster' as const, id: 'c1' } }];
  t.true(sees(tree, onCluster, vm) && sees(tree, onCluster, pooled) && sees(tree, onCluster, disk));
  t.true(sees(tree, onCluster, { type: 'data_center', id: 'dc1' }), "a cluster's data center is seen");
  t.false(holds(tree, onCluster, { type: 'data_center', id: 'dc1' }, 'run_vm'), 'and gives no permit');
  t.false(sees(tree, onCluster, { type: 'data_center', id: 'dc2' }));
  const onPool = [{ roleId: role('UserRole'), object: { type: 'vm_pool' as const, id: 'p1' } }];
  t.true(sees(tree, onPool, pooled));
  t.false(sees(tree, onPool, vm));
  t.true(sees(tree, onPool, { type: 'data_center', id: 'dc1' }));
  t.false(sees(tree, onPool, { type: 'cluster', id: 'c1' }), "a pool's cluster is not seen through the pool");
  const onVm = [{ roleId: role('UserRole'), object: vm }];
  t.true(sees(tree, onVm, { type: 'cluster', id: 'c1' }) && sees(tree, onVm, { type: 'data_center', id: 'dc1' }));
  t.false(sees(tree, onVm, { type: 'vm_pool', id: 'p1' }), 'a VM outside the pool does not show it');
  t.true(sees(tree, [{ roleId: role('UserRole'), object: pooled }], { type: 'vm_pool', id: 'p1' }));
  t.false(sees(tree, [{ roleId: role('DiskOperator'), object: disk }], { type: 'storage_domain', id: 's1' }), "a disk does not show its storage domain");
  const onSystem = [{ roleId: role('ReadOnlyAdmin'), object: { type: 'system' as const, id: '' } }];
  t.true(sees(tree, onSystem, disk));
  t.false(holds(tree, onSystem, disk, 'delete_disk'), 'ReadOnlyAdmin sees everything and may change nothing');
});

test("a permit is held through a role that has it, on the object or above; a disk's permits also come through its VM", (t) => {
  const grants = [
    { roleId: role('UserRole'), object: vm },
    { roleId: role('UserVmManager'), object: { type: 'data_center' as const, id: 'dc1' } },
  ];
  t.true(holds(tree, grants, vm, 'run_vm'));
  t.true(holds(tree, grants, pooled, 'delete_vm'), 'through the data center of its cluster');
  t.true(holds(tree, grants, disk, 'delete_disk'), 'through the VM it is attached to');
  t.false(holds(tree, grants, vm, 'create_cluster'));
  t.false(holds(tree, [], vm, 'run_vm'));
});
