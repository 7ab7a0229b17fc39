import test from 'ava';
import { acceptsNewVms, departureOf, presentedHostStatus, type DepartingVm } from '../../../controller/rules/host-admin.js';
import { hostAdminStates, hostStatuses } from '../../../controller/rules/states.js';
import { eachBounded } from '../../../controller/tasks/host-maintenance.js';

test('a host shows its administrative state while it is up or connecting, and its connectivity status otherwise', (t) => {
  for (const status of hostStatuses) {
    for (const adminState of hostAdminStates) {
      const shown = presentedHostStatus({ status, adminState });
      const expected = adminState !== 'active' && (status === 'up' || status === 'connecting') ? adminState : status;
      t.is(shown, expected, `${status} and ${adminState}`);
    }
  }
  t.is(presentedHostStatus({ status: 'non_responsive', adminState: 'maintenance' }), 'non_responsive', 'a lost host says so, so that it can be fenced');
});

test('only an active host takes new VMs', (t) => {
  t.deepEqual(
    hostAdminStates.filter((adminState) => acceptsNewVms({ adminState })),
    ['active'],
  );
});

test('a deactivation migrates active VMs, undefines shut-off ones on shared storage, and names every VM that cannot leave', (t) => {
  const vm = (patch: Partial<DepartingVm>): DepartingVm => ({ name: 'v', powerState: 'shutoff', migrationAffinity: 'migratable', localDiskHostId: null, ...patch });
  t.deepEqual(departureOf(vm({ powerState: 'running' })), { kind: 'migrate' });
  t.deepEqual(departureOf(vm({ powerState: 'paused', migrationAffinity: 'user_migratable' })), { kind: 'migrate' }, "an administrator's deactivation moves user_migratable VMs, as oVirt's does");
  t.deepEqual(departureOf(vm({ powerState: 'shutoff' })), { kind: 'undefine' });
  t.deepEqual(departureOf(vm({ powerState: 'crashed' })), { kind: 'undefine' });
  t.like(departureOf(vm({ powerState: 'running', migrationAffinity: 'pinned' })), { kind: 'stuck', why: 'VM v is pinned to the host (placement_policy.affinity pinned)' });
  t.like(departureOf(vm({ migrationAffinity: 'pinned' })), { kind: 'stuck' });
  t.like(departureOf(vm({ powerState: 'suspended' })), { kind: 'stuck', why: 'VM v is suspended with its memory image on the host' });
  t.like(departureOf(vm({ localDiskHostId: 'h1' })), { kind: 'stuck', why: "VM v has a disk on the host's local storage" });
  t.like(departureOf(vm({ powerState: null })), { kind: 'stuck' });
});

test('bounded work runs every item, never more than the bound at once, and starts none once told to stop', async (t) => {
  let running = 0;
  let most = 0;
  const done: number[] = [];
  const gates: Array<() => void> = [];
  const work = async (item: number) => {
    running++;
    most = Math.max(most, running);
    await new Promise<void>((resolve) => gates.push(resolve));
    running--;
    done.push(item);
    return item % 3 === 0 ? `item ${item} failed` : undefined;
  };
  const all = eachBounded([1, 2, 3, 4, 5, 6, 7], 2, () => false, work);
  while (done.length < 7) {
    await new Promise((resolve) => setImmediate(resolve));
    gates.shift()?.();
  }
  t.deepEqual(await all, ['item 3 failed', 'item 6 failed']);
  t.is(most, 2);
  t.deepEqual(done.sort(), [1, 2, 3, 4, 5, 6, 7]);

  let stop = false;
  const started: number[] = [];
  const stopped = await eachBounded([1, 2, 3, 4], 1, () => stop, async (item) => {
    started.push(item);
    if (item === 2) stop = true;
    return undefined;
  });
  t.deepEqual(stopped, []);
  t.deepEqual(started, [1, 2], 'no item starts once told to stop');
});
