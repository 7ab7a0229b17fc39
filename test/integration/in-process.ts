import type { TestFn } from 'ava';
import { DriverError } from '../../agent/hypervisor/driver.js';
import { LibvirtDriver } from '../../agent/hypervisor/libvirt/driver.js';
import { eventually } from '../support/eventually.js';
import { GatedDriver } from '../support/gated-driver.js';
import { InProcessSystem } from '../support/in-process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

/** Registers the scenarios that prove the in-process tier (controller and agents in the test's process) for one database. */
export function inProcessSuite(test: Test, database: DatabaseKind): void {
  test(`[${database}] in process: a VM created and started through the API runs on the agent's private test host, as the controller's services and database see it`, async (t) => {
    const system = await InProcessSystem.start(database, { label: 'it-in-process', controller: { heartbeatIntervalMs: 300 } });
    t.teardown(() => system.close());
    const { agent, hostId } = await system.addAgent({ name: 'alpha', memoryMiB: 2048 });
    t.like(
      system.controller.services.hosts.list().find((host) => host.id === hostId),
      { name: 'alpha', status: 'up' },
    );

    const vmId = await system.api.createVm('in-process-vm', 256);
    const [row] = (await system.controller.orm.em.getConnection().execute('select name from vms where id = ?', [vmId])) as { name: string }[];
    t.is(row?.name, 'in-process-vm', 'the controller wrote the VM to its database');

    const started = await system.api.action(vmId, 'start');
    t.is(started.status, 200, started.text);
    t.is(await system.api.vmStatus(vmId), 'up');
    t.is((await system.api.vm(vmId)).host.id, hostId);
    t.is((await agent.driver.getDomain(vmId))?.state, 'running', 'the test host runs the domain');

    t.is((await system.api.action(vmId, 'stop')).status, 200);
    t.is(await system.api.vmStatus(vmId), 'down');
    t.is((await agent.driver.getDomain(vmId))?.state, 'shutoff');
  });

  test(`[${database}] in process: a start held in a gated driver keeps its task running until the test releases it, or fails it`, async (t) => {
    const system = await InProcessSystem.start(database, { label: 'it-in-process' });
    t.teardown(() => system.close());
    let gated!: GatedDriver;
    await system.addAgent({ name: 'alpha', memoryMiB: 2048, driver: (options) => (gated = new GatedDriver(new LibvirtDriver(options))).driver });
    const vmId = await system.api.createVm('gated-vm', 256);

    const heldStart = gated.hold('start');
    const pending = await system.api.action(vmId, 'start', { async: true });
    t.is(pending.status, 202, pending.text);
    const taskId = pending.body.action.task.id as string;
    const [uuid] = await heldStart.reached;
    t.is(uuid, vmId, 'the agent called start for the VM, and the gate holds it');
    t.is((await system.api.get(`/tasks/${taskId}`)).body.task.status, 'running');
    t.not(await system.api.vmStatus(vmId), 'up');
    heldStart.release();
    t.is((await system.api.task(taskId)).status, 'finished');
    t.is(await system.api.vmStatus(vmId), 'up');

    t.is((await system.api.action(vmId, 'stop')).status, 200);
    const failedStart = gated.hold('start');
    const refused = system.api.action(vmId, 'start');
    await failedStart.reached;
    failedStart.fail(new DriverError('hypervisor_failure', 'the gate failed the start'));
    const response = await refused;
    t.not(response.status, 200, 'a start the driver failed does not succeed');
    t.regex(response.text, /the gate failed the start/);
    await eventually(async () => (await system.api.vmStatus(vmId)) === 'down', 'the VM to be down after the failed start');
  });
}
