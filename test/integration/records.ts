import { randomUUID } from 'node:crypto';
import type { TestFn } from 'ava';
import type { Orm } from '../../controller/db/orm.js';
import { Cluster, Host, Vm, blankTemplateId } from '../../controller/db/entities.js';
import { Records } from '../../controller/state/records.js';
import { insertRow, reader, runStatement, selectRows } from '../../controller/db/store.js';
import { countStatements, counted } from '../../controller/db/dialect.js';
import type { DomainStatus } from '../../shared/model.js';
import { eventually } from '../support/eventually.js';
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

async function addHost(orm: Orm): Promise<string> {
  const em = orm.em.fork();
  const cluster = await em.findOneOrFail(Cluster, { name: 'Default' });
  const id = randomUUID();
  const now = Date.now();
  em.persist(Object.assign(new Host(), { id, name: `host-${id.slice(0, 8)}`, clusterId: cluster.id, memoryBytes: 2 ** 34, registeredAt: now, lastSeenAt: now, updatedAt: now }));
  await em.flush();
  return id;
}

type Row = { id: string; host_id: string | null; desired_state: string; power_state: string | null; power_state_at: number | string | null };

async function rowsOf(orm: Orm): Promise<Map<string, Row>> {
  const rows = await selectRows<Row>(orm, 'select id, host_id, desired_state, power_state, power_state_at from vms');
  return new Map(rows.map((row) => [row.id, row]));
}

const domain = (vm: Vm, state: DomainStatus['state']): DomainStatus => ({ uuid: vm.id, name: vm.name, state, managed: true });

/** Makes every update of the vms table fail while the table `failing_writes` has a row: a failure of the database itself, not of Drover's code. */
async function injectWriteFailures(orm: Orm, kind: DatabaseKind): Promise<{ fail(): Promise<void>; heal(): Promise<void> }> {
  await runStatement(orm, 'create table failing_writes (reason varchar(64))');
  if (kind === 'postgres') {
    await runStatement(orm, `create function drover_test_fail() returns trigger language plpgsql as $$
      begin if exists (select 1 from failing_writes) then raise exception 'injected write failure'; end if; return new; end $$`);
    await runStatement(orm, 'create trigger vms_failing before update on vms for each row execute function drover_test_fail()');
  } else {
    await runStatement(orm, `create trigger vms_failing before update on vms when exists (select 1 from failing_writes) begin select raise(abort, 'injected write failure'); end`);
  }
  return {
    fail: () => runStatement(orm, "insert into failing_writes (reason) values ('test')"),
    heal: () => runStatement(orm, 'delete from failing_writes'),
  };
}

/** Registers the scenarios of the VM and host records' writes for one database. */
export function recordsSuite(test: TestFn<unknown>, kind: DatabaseKind): void {
  test(`[${kind}] reported power states show at once in memory and reach the database together when a reader settles`, async (t) => {
    const orm = await openScratchDatabase(t, kind, 'records');
    countStatements(orm);
    let writes!: { count: number };
    const records = await counted(async (counter) => {
      writes = counter;
      return new Records(orm, (error) => t.fail(String(error)));
    });
    const vms = await addVms(orm, 30);
    await records.load();
    const hostId = await addHost(orm);
    records.inventoryReported(hostId, vms.map((vm) => domain(vm, 'shutoff')));
    await records.settled();
    t.true([...(await rowsOf(orm)).values()].every((row) => row.host_id === hostId && row.power_state === 'shutoff'), 'the inventory placed every VM on the host');

    for (const vm of vms) records.domainReported(hostId, domain(vm, 'running'));
    for (const vm of vms.slice(0, 10)) records.desiredStateAsked(vm.id, 'up');
    t.is(records.vm(vms[0]!.id)?.powerState, 'running', 'memory has the change at once');
    t.is((await rowsOf(orm)).get(vms[0]!.id)?.power_state, 'shutoff', 'the database has not got it yet');
    t.is(records.committedMemory(hostId), 30 * 2 ** 28, 'the host holds the memory of its thirty running VMs');

    const before = writes.count;
    await records.settled();
    t.is(writes.count - before, 2, 'thirty VMs in one statement for power states, one for the desired states of ten of them');
    const rows = await rowsOf(orm);
    for (const [index, vm] of vms.entries()) {
      t.is(rows.get(vm.id)?.power_state, 'running');
      t.is(rows.get(vm.id)?.desired_state, index < 10 ? 'up' : 'down');
    }
  });

  test(`[${kind}] a VM's location is written at once, and a row whose settings were written through the ORM keeps the live columns`, async (t) => {
    const orm = await openScratchDatabase(t, kind, 'records');
    const records = new Records(orm, (error) => t.fail(String(error)));
    const [vm] = await addVms(orm, 1);
    await records.load();
    const hostId = await addHost(orm);
    records.domainReported(hostId, domain(vm!, 'running'));
    await eventually(async () => (await rowsOf(orm)).get(vm!.id)?.host_id === hostId, 'the location to be written without a reader settling');
    await records.locationWritten(vm!.id);

    const stale = await reader(orm).findOneOrFail(Vm, { id: vm!.id });
    records.domainReported(hostId, domain(vm!, 'paused'));
    records.vmSettingsChanged(Object.assign(stale, { description: 'changed', powerState: 'shutoff' }));
    t.is(records.vm(vm!.id)?.description, 'changed', 'the settings are taken in');
    t.is(records.vm(vm!.id)?.powerState, 'paused', 'the reported power state stays');
    await records.settled();
    t.is((await rowsOf(orm)).get(vm!.id)?.power_state, 'paused');
  });

  test(`[${kind}] a task sent to a host records the host on a VM that has none, in the statement that stores the task`, async (t) => {
    const orm = await openScratchDatabase(t, kind, 'records');
    const records = new Records(orm, (error) => t.fail(String(error)));
    const [unplaced, placed, later] = await addVms(orm, 3);
    await records.load();
    const [first, second] = [await addHost(orm), await addHost(orm)];
    records.domainReported(first, domain(placed!, 'shutoff'));
    await records.locationWritten(placed!.id);
    let seq = 1;
    const task = (vmId: string, hostId: string | null, state: string) => ({ id: randomUUID(), seq: seq++, objectType: 'vm', objectId: vmId, vmId, action: 'start', hostId, commandKind: 'start', state, createdAt: Date.now() });
    await insertRow(orm, 'tasks', task(unplaced!.id, second, 'running'));
    await insertRow(orm, 'tasks', task(placed!.id, second, 'running'));
    let rows = await rowsOf(orm);
    t.is(rows.get(unplaced!.id)?.host_id, second, "the VM without a host is on record on the task's host");
    t.is(rows.get(placed!.id)?.host_id, first, 'a VM on record on a host stays there');

    const queued = task(later!.id, null, 'queued');
    await insertRow(orm, 'tasks', queued);
    t.is((await rowsOf(orm)).get(later!.id)?.host_id, null, 'a queued task has no host yet');
    await runStatement(orm, 'update tasks set host_id = ?, state = ? where id = ?', [first, 'running', queued.id]);
    rows = await rowsOf(orm);
    t.is(rows.get(later!.id)?.host_id, first, 'giving the task its host records it on the VM');

    records.domainGone(first, placed!.id);
    const start = task(placed!.id, first, 'running');
    await insertRow(orm, 'tasks', start);
    records.sentTo(placed!.id, first);
    await records.locationWritten(placed!.id);
    t.is((await rowsOf(orm)).get(placed!.id)?.host_id, first, 'a start stored while a report that cleared the location was being written still leaves the VM on record on its host');
    t.is(records.vm(placed!.id)?.hostId, first);
  });

  test(`[${kind}] a reader settles what was pending when it asked, while changes keep coming`, async (t) => {
    const orm = await openScratchDatabase(t, kind, 'records');
    const records = new Records(orm, (error) => t.fail(String(error)));
    const vms = await addVms(orm, 50);
    await records.load();
    const hostId = await addHost(orm);
    records.inventoryReported(hostId, vms.map((vm) => domain(vm, 'shutoff')));
    await records.settled();
    let streaming = true;
    let changes = 0;
    const stream = (async () => {
      while (streaming) {
        const vm = vms[changes % vms.length]!;
        records.domainReported(hostId, domain(vm, Math.floor(changes / vms.length) % 2 ? 'running' : 'paused'));
        changes++;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await eventually(() => changes > 100, 'the stream of changes to be under way');
    const asked = changes;
    await records.settled();
    t.true(changes > asked, 'changes kept coming while the reader waited, and the reader was answered all the same');
    streaming = false;
    await stream;
    await records.settled();
    const rows = await rowsOf(orm);
    t.true(vms.every((vm) => rows.get(vm.id)?.power_state === records.vm(vm.id)?.powerState), 'in the end the database has what memory has');
  });

  test(`[${kind}] a batch the database refuses is written later, and readers that settle meanwhile are told`, async (t) => {
    const orm = await openScratchDatabase(t, kind, 'records');
    const failures: unknown[] = [];
    const records = new Records(orm, (error) => failures.push(error));
    const vms = await addVms(orm, 5);
    await records.load();
    const hostId = await addHost(orm);
    records.inventoryReported(hostId, vms.map((vm) => domain(vm, 'shutoff')));
    await records.settled();
    const writes = await injectWriteFailures(orm, kind);
    await writes.fail();

    for (const vm of vms) records.domainReported(hostId, domain(vm, 'running'));
    const refused = await t.throwsAsync(records.settled());
    t.regex(refused!.message, /tried again/);
    t.true(failures.length >= 1, 'the failure was reported');
    t.is(records.vm(vms[0]!.id)?.powerState, 'running', 'memory keeps the change');
    t.is((await rowsOf(orm)).get(vms[0]!.id)?.power_state, 'shutoff', 'the database refused it');

    records.domainReported(hostId, domain(vms[0]!, 'paused'));
    await writes.heal();
    await eventually(async () => {
      const rows = await rowsOf(orm);
      return rows.get(vms[0]!.id)?.power_state === 'paused' && vms.slice(1).every((vm) => rows.get(vm.id)?.power_state === 'running');
    }, 'the refused batch and the newer change to be written');
    await records.settled();
  });
}
