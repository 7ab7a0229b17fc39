import type { TestFn } from 'ava';
import { powerStates, type PowerState } from '../../shared/model.js';
import { hostStatuses, type HostStatus } from '../../controller/rules/states.js';
import { vmActions } from '../../controller/rules/vm-actions.js';
import { vmStatus, vmStatusSql } from '../../controller/rules/vm-status.js';
import { runStatement, selectRows } from '../../controller/db/store.js';
import { ProcessSystem } from '../support/process-system.js';
import { openScratchDatabase, type DatabaseKind } from '../support/scratch-database.js';

interface Case {
  id: number;
  powerState: PowerState | null;
  hostId: string | null;
  hostStatus: HostStatus | null;
  runningAction: string | null;
  duplicateHostId: string | null;
}

function everyCase(): Case[] {
  const cases: Case[] = [];
  const actions = [...new Set([...vmActions, 'migrate', 'create_disks', 'attach_disk', 'detach_disk', 'add_nic'])];
  for (const powerState of [...powerStates, null]) {
    for (const hostId of ['host', null]) {
      for (const hostStatus of [...hostStatuses, null]) {
        for (const runningAction of [...actions, null]) {
          for (const duplicateHostId of ['other-host', null]) cases.push({ id: cases.length, powerState, hostId, hostStatus, runningAction, duplicateHostId });
        }
      }
    }
  }
  return cases;
}

/** Holds the SQL twin of a VM's status against its TypeScript definition, and search against GET. */
export function vmStatusSqlSuite(test: TestFn<unknown>, kind: DatabaseKind): void {
  test(`[${kind}] the SQL twin of a VM's status gives what vmStatus gives, for every combination of power state, host, host status, running task and second host`, async (t) => {
    const orm = await openScratchDatabase(t, kind, 'status');
    await runStatement(orm, 'create table status_cases (id integer primary key, power_state varchar(32), host_id varchar(36), host_status varchar(32), running_action varchar(32), duplicate_host_id varchar(36))');
    const cases = everyCase();
    for (let from = 0; from < cases.length; from += 100) {
      const chunk = cases.slice(from, from + 100);
      await runStatement(
        orm,
        `insert into status_cases (id, power_state, host_id, host_status, running_action, duplicate_host_id) values ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flatMap((row) => [row.id, row.powerState, row.hostId, row.hostStatus, row.runningAction, row.duplicateHostId]),
      );
    }
    const expression = vmStatusSql({ powerState: 'c.power_state', hostId: 'c.host_id', hostStatus: 'c.host_status', runningAction: 'c.running_action', duplicateHostId: 'c.duplicate_host_id' });
    const rows = await selectRows<{ id: number; status: string }>(orm, `select c.id, ${expression} as status from status_cases c order by c.id`);
    t.is(rows.length, cases.length);
    const differences = rows.flatMap((row) => {
      const input = cases[Number(row.id)]!;
      const expected = vmStatus(input.powerState, input.hostId, input.hostStatus ?? undefined, input.runningAction ?? undefined, input.duplicateHostId);
      return expected === row.status ? [] : [`${JSON.stringify(input)}: SQL says ${row.status}, vmStatus says ${expected}`];
    });
    t.deepEqual(differences, []);
  });

  test(`[${kind}] a search by status finds a VM in the status GET shows, while a task runs on it and after`, async (t) => {
    const system = await ProcessSystem.start(kind, { alpha: {} });
    t.teardown(() => system.close());
    const id = await system.api.createVm('status-search', 128);
    const found = async (status: string) => ((await system.api.get(`/vms?search=${encodeURIComponent(`status=${status}`)}`, { accept: 'json' })).body.vm ?? []).some((vm: { id: string }) => vm.id === id);
    t.true(await found('down'));
    system.signalAgent('alpha', 'SIGSTOP');
    const start = await system.api.action(id, 'start', { async: true });
    t.is(start.status, 202, start.text);
    t.is(await system.api.vmStatus(id), 'powering_up');
    t.true(await found('powering_up'), 'search finds the VM powering up');
    t.false(await found('down'));
    system.signalAgent('alpha', 'SIGCONT');
    await system.waitForVmStatus(id, 'up');
    t.true(await found('up'), 'search finds the VM up');
    t.false(await found('powering_up'));
  });
}
