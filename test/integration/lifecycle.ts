import type { ExecutionContext, TestFn } from 'ava';
import type { ApiResponse } from '../support/api.js';
import { ProcessSystem } from '../support/process-system.js';
import { eventually } from '../support/eventually.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

async function expectAction(t: ExecutionContext, system: ProcessSystem, vmId: string, action: string, status: string): Promise<ApiResponse> {
  const response = await system.api.action(vmId, action);
  t.is(response.status, 200, `${action}: ${response.text}`);
  t.is(response.body.action.status, 'complete');
  t.truthy(response.body.action.task.href, `${action} links its task`);
  t.is(await system.api.vmStatus(vmId), status, `after ${action}`);
  return response;
}

/** Registers the lifecycle scenarios for one database. */
export function lifecycleSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] a VM goes through its whole lifecycle over the XML API on a real agent`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 4096 } });
    t.teardown(() => system.close());
    const vmId = await system.api.createVm('lifecycle-xml', 512, '<cpu><topology><sockets>1</sockets><cores>2</cores><threads>1</threads></topology></cpu><display><type>spice</type></display>');
    const created = await system.api.get(`/vms/${vmId}`);
    t.is(created.status, 200);
    t.is(created.body.vm.status, 'down');
    t.is(created.body.vm.display.type, 'spice');
    t.is(created.body.vm.cpu.topology.cores, '2');

    await expectAction(t, system, vmId, 'start', 'up');
    t.is((await system.api.vm(vmId)).host.id, await system.hostId('alpha'));
    await expectAction(t, system, vmId, 'suspend', 'suspended');
    await expectAction(t, system, vmId, 'start', 'up');
    const rebooted = await expectAction(t, system, vmId, 'reboot', 'up');
    t.regex(rebooted.body.action.description, /^the guest rebooted [\d.]+ s after the request$/, 'the answer says the guest rebooted as asked');
    await expectAction(t, system, vmId, 'shutdown', 'down');
    await expectAction(t, system, vmId, 'start', 'up');
    await expectAction(t, system, vmId, 'suspend', 'suspended');
    await expectAction(t, system, vmId, 'resume', 'up');
    await expectAction(t, system, vmId, 'stop', 'down');

    const refused = await system.api.action(vmId, 'stop');
    t.is(refused.status, 409);
    t.regex(refused.body.fault.detail, /cannot stop VM lifecycle-xml/);

    const tasks = await system.api.get(`/vms/${vmId}/tasks`);
    const actions = tasks.body.tasks.task.map((task: any) => task.action);
    t.deepEqual(actions, ['stop', 'resume', 'suspend', 'start', 'shutdown', 'reboot', 'start', 'suspend', 'start'], 'newest first, and the refused stop left no task');
    t.true(tasks.body.tasks.task.every((task: any) => task.status === 'finished'));

    const removed = await system.api.delete(`/vms/${vmId}`);
    t.is(removed.status, 200);
    t.is(removed.body.action.status, 'complete');
    t.is((await system.api.get(`/vms/${vmId}`)).status, 404);
    await eventually(() => system.executedCommands('alpha').length === 10, 'the agent to have executed ten commands');
  });

  test.serial(`[${database}] the same lifecycle over the JSON API`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 4096 } });
    t.teardown(() => system.close());
    const created = await system.api.post('/vms', { name: 'lifecycle-json', memory: '536870912', cluster: { name: 'Default' }, os: { type: 'rhel_9x64' } }, { accept: 'json' });
    t.is(created.status, 201, created.text);
    t.is(created.headers.get('location'), created.body.href);
    const vmId = created.body.id;
    t.is(created.body.os.type, 'rhel_9x64');
    t.true(created.body.link.some((link: any) => link.rel === 'tasks'));
    t.true(created.body.actions.link.some((link: any) => link.rel === 'start'));
    for (const [action, status] of [['start', 'up'], ['suspend', 'suspended'], ['start', 'up'], ['shutdown', 'down'], ['start', 'up'], ['stop', 'down']] as const) {
      const response = await system.api.post(`/vms/${vmId}/${action}`, {}, { accept: 'json' });
      t.is(response.status, 200, `${action}: ${response.text}`);
      t.is(response.body.status, 'complete');
      t.is((await system.api.vm(vmId)).status, status);
    }
    const updated = await system.api.put(`/vms/${vmId}`, { description: 'renamed', memory: '1073741824' }, { accept: 'json' });
    t.is(updated.status, 200, updated.text);
    t.is(updated.body.memory, '1073741824');
    t.is(updated.body.description, 'renamed');
    const list = await system.api.get('/vms', { accept: 'json' });
    t.deepEqual(list.body.vm.map((vm: any) => vm.name), ['lifecycle-json']);
    const removed = await system.api.delete(`/vms/${vmId}`, { accept: 'json' });
    t.is(removed.status, 200);
    t.is(removed.body.status, 'complete');
  });

  test.serial(`[${database}] what a start reports is seen at once by searches, followed links and updates, though the database gets it written behind`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 4096 } });
    t.teardown(() => system.close());
    const hostId = await system.hostId('alpha');
    const vmId = await system.api.createVm('written-behind', 256);
    t.is((await system.api.action(vmId, 'start')).status, 200);
    const host = await system.api.get(`/hosts/${hostId}?follow=vms`, { accept: 'json' });
    t.deepEqual((host.body.vms?.vm ?? []).map((vm: any) => vm.id), [vmId], "the host's followed VMs include the VM just placed on it");
    const searched = await system.api.get(`/vms?search=${encodeURIComponent('status=up and name=written-behind')}`, { accept: 'json' });
    t.deepEqual((searched.body.vm ?? []).map((vm: any) => vm.id), [vmId], 'the search reads the state just reported');
    const updated = await system.api.put(`/vms/${vmId}`, { description: 'updated right after its start' }, { accept: 'json' });
    t.is(updated.status, 200, updated.text);
    t.is(updated.body.status, 'up', 'an update does not bring back the state the database had before the start');
    t.is(updated.body.host?.id, hostId);
    t.is((await system.api.action(vmId, 'stop')).status, 200);
    const deleted = await system.api.delete(`/vms/${vmId}`);
    t.is(deleted.status, 200, 'a VM stopped a moment ago can be removed');
  });

  test.serial(`[${database}] placement puts a VM on the host that has room, and refuses when none has`, async (t) => {
    const system = await ProcessSystem.start(database, { small: { memoryMiB: 2048 }, large: { memoryMiB: 6144 } });
    t.teardown(() => system.close());
    const large = await system.hostId('large');
    const small = await system.hostId('small');
    const first = await system.api.createVm('big-1', 3072);
    const second = await system.api.createVm('big-2', 3072);
    const third = await system.api.createVm('big-3', 3072);
    const little = await system.api.createVm('little', 1024);
    t.is((await system.api.action(first, 'start')).status, 200);
    t.is((await system.api.vm(first)).host.id, large);
    t.is((await system.api.action(second, 'start')).status, 200);
    t.is((await system.api.vm(second)).host.id, large);
    const refused = await system.api.action(third, 'start');
    t.is(refused.status, 409, refused.text);
    t.regex(refused.body.fault.detail, /no host can run VM big-3/);
    t.is((await system.api.get(`/vms/${third}/tasks`)).body.tasks.task, undefined, 'a start refused up front leaves no task');
    t.is(await system.api.vmStatus(third), 'down');
    t.is((await system.api.action(little, 'start')).status, 200);
    t.is((await system.api.vm(little)).host.id, small);
  });

  test.serial(`[${database}] concurrent starts of one VM run one after another and place it on one host`, async (t) => {
    const system = await ProcessSystem.start(database, { one: { memoryMiB: 4096 }, two: { memoryMiB: 4096 } });
    t.teardown(() => system.close());
    const vmId = await system.api.createVm('contended', 256);
    const answers = await Promise.all(Array.from({ length: 6 }, () => system.api.action(vmId, 'start')));
    const statuses = answers.map((answer) => answer.status).sort();
    t.deepEqual(statuses, [200, 409, 409, 409, 409, 409], answers.map((answer) => answer.text).join('\n'));
    t.is(await system.api.vmStatus(vmId), 'up');
    const tasks = (await system.api.get(`/vms/${vmId}/tasks`, { accept: 'json' })).body.task;
    t.is(tasks.filter((task: any) => task.status === 'finished').length, 1);
    t.is(new Set(tasks.filter((task: any) => task.host).map((task: any) => task.host.id)).size, 1, 'every task that ran used the same host');
    const executed = [...system.executedCommands('one'), ...system.executedCommands('two')];
    t.is(executed.length, 1, 'one start reached a host');
  });

  test.serial(`[${database}] tasks run in order per VM, can be cancelled while queued, waited for, and run asynchronously`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 4096 } }, { heartbeatMs: 3000 });
    t.teardown(() => system.close());
    const vmId = await system.api.createVm('ordered', 256);
    const other = await system.api.createVm('concurrent', 256);
    t.is((await system.api.action(vmId, 'start')).status, 200);

    system.signalAgent('alpha', 'SIGSTOP');
    const queue = async (id: string, action: string) => {
      const response = await system.api.post(`/vms/${id}/tasks`, `<task><action>${action}</action></task>`);
      t.is(response.status, 201, response.text);
      return response.body.task.id as string;
    };
    const suspend = await queue(vmId, 'suspend');
    const start = await queue(vmId, 'start');
    const stop = await queue(vmId, 'stop');
    const doomed = await queue(vmId, 'start');
    const elsewhere = await queue(other, 'start');
    await eventually(async () => (await system.api.get(`/tasks/${suspend}`)).body.task.status === 'running', 'the first task to run');
    await eventually(async () => (await system.api.get(`/tasks/${elsewhere}`)).body.task.status === 'running', 'a task on another VM to run beside this VM\'s');

    const runningCancel = await system.api.delete(`/tasks/${suspend}`);
    t.is(runningCancel.status, 409);
    const cancelled = await system.api.delete(`/tasks/${doomed}`);
    t.is(cancelled.status, 200, cancelled.text);
    t.is(cancelled.body.task.status, 'cancelled');

    const beforeWait = Date.now();
    const stillRunning = await system.api.get(`/tasks/${suspend}?wait=1`);
    t.is(stillRunning.body.task.status, 'running');
    t.true(Date.now() - beforeWait >= 900, 'wait held the request');

    const pending = await system.api.action(other, 'stop', { async: true });
    t.is(pending.status, 202);
    t.is(pending.body.action.status, 'pending');
    const pendingTask = pending.body.action.task.id;

    system.signalAgent('alpha', 'SIGCONT');
    const waited = await system.api.get(`/tasks/${stop}?wait=20`);
    t.is(waited.body.task.status, 'finished');
    const ended = await Promise.all([suspend, start, stop].map(async (id) => (await system.api.get(`/tasks/${id}`)).body.task));
    t.true(ended.every((task) => task.status === 'finished'));
    for (let index = 1; index < ended.length; index++) {
      t.true(Date.parse(ended[index].start_time) >= Date.parse(ended[index - 1].end_time), 'each task starts after the previous one ended');
    }
    t.is(await system.api.vmStatus(vmId), 'down');
    t.is((await system.api.get(`/tasks/${pendingTask}?wait=20`)).body.task.status, 'finished');
    t.is(await system.api.vmStatus(other), 'down');
    t.false(system.executedCommands('alpha').includes(doomed), 'the cancelled task never reached the host');
  });
}
