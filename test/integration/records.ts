import { randomUUID } from 'node:crypto';
import type { TestFn } from 'ava';
import type { Orm } from '../../controller/db/orm.js';
import { Cluster, Vm, blankTemplateId } from '../../controller/db/entities.js';
import { Records } from '../../controller/state/records.js';
import { reader, selectRows } from '../../controller/db/store.js';
import { countStatements, counted } from '../../controller/db/dialect.js';
import { openScratchDatabase, type DatabaseKind } from '../support/scratch-database.js';

async function addVms(orm: Orm, count: number): Promise<Vm[]> {
  const em = orm.em.fork();
  const cluster = await em.findOneOrFail(Cluster, { name: 'Default' });
  const now = Date.now();
  const vms = Array.from({ length: count }, (_, index) =>
    em.create(Vm, {
      id: randomUUID(),
      name: `records-${index}`,
      description: '',
      memoryBytes: 2 ** 28,
      cpuSockets: 1,
      cpuCores: 1,
      cpuThreads: 1,
      osType: 'other',
      displayType: 'vnc',
      clusterId: cluster.id,
      templateId: blankTemplateId,
      vmPoolId: null,
      allocatedTo: null,
      desiredState: 'down',
      createdAt: now,
      updatedAt: now,
    }),
  );
  await em.flush();
  return vms;
}

type Row = { id: string; desired_state: string; power_state: string | null; power_state_at: number | string | null };

async function rowsOf(orm: Orm): Promise<Map<string, Row>> {
  const rows = await selectRows<Row>(orm, 'select id, desired_state, power_state, power_state_at from vms');
  return new Map(rows.map((row) => [row.id, row]));
}

/** Registers the write-behind scenarios of the in-memory records for one database. */
export function recordsSuite(test: TestFn<unknown>, kind: DatabaseKind): void {
  test(`[${kind}] changes written behind show at once in memory, reach the database together when a reader settles, and never undo a later write`, async (t) => {
    const orm = await openScratchDatabase(t, kind, 'records');
    countStatements(orm);
    const records = new Records(orm, (error) => t.fail(String(error)));
    const vms = await addVms(orm, 30);
    await records.load();

    for (const [index, vm] of vms.entries()) records.writeVmBehind(vm.id, { powerState: 'running', powerStateAt: 1_000 + index });
    for (const vm of vms.slice(0, 10)) records.writeVmBehind(vm.id, { desiredState: 'up' });
    t.is(records.vm(vms[0]!.id)?.powerState, 'running', 'memory has the change at once');
    t.is((await rowsOf(orm)).get(vms[0]!.id)?.power_state, null, 'the database has not yet got it');

    const statements = await counted(async (counter) => {
      await records.settled();
      return counter.count;
    });
    t.is(statements, 2, 'thirty VMs in one statement for power states, one for the desired states of ten of them');
    const rows = await rowsOf(orm);
    for (const [index, vm] of vms.entries()) {
      t.is(rows.get(vm.id)?.power_state, 'running');
      t.is(Number(rows.get(vm.id)?.power_state_at), 1_000 + index);
      t.is(rows.get(vm.id)?.desired_state, index < 10 ? 'up' : 'down');
    }

    const [first, second] = vms as [Vm, Vm];
    records.writeVmBehind(first.id, { desiredState: 'down', powerState: 'paused' });
    await records.updateVm(first.id, { desiredState: 'suspended' });
    await records.settled();
    const afterUpdate = (await rowsOf(orm)).get(first.id)!;
    t.is(afterUpdate.desired_state, 'suspended', 'a durable write of a column wins over the older change pending for it');
    t.is(afterUpdate.power_state, 'paused', 'the pending change of the other column still lands');
    t.is(records.vm(first.id)?.desiredState, 'suspended');

    records.writeVmBehind(second.id, { powerState: 'shutoff' });
    const stale = await reader(orm).findOneOrFail(Vm, { id: second.id });
    t.is(stale.powerState, 'running', 'a row read meanwhile still has the old state');
    records.putVm(stale);
    t.is(records.vm(second.id)?.powerState, 'shutoff', 'taking that row in keeps the change pending on top of it');
    await records.settled();
    t.is((await rowsOf(orm)).get(second.id)?.power_state, 'shutoff');
  });
}
