import type { TestFn } from 'ava';
import { ProcessSystem } from '../support/process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

const vncId = '766e63';

/** The console routes where the host cannot serve them: a hypervisor that cannot change a console's password, and a host that stopped responding. */
export function consoleFaultSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] a console ticket is a 409 fault where the hypervisor cannot set one, and a 503 fault while the VM's host does not respond`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { memoryMiB: 2048 } });
    t.teardown(() => system.close());
    const { api } = system;
    const vmId = await api.createVm('console-faults', 128);
    const consoles = `/vms/${vmId}/graphicsconsoles`;
    const started = await api.action(vmId, 'start');
    t.is(started.status, 200, started.text);

    const live = await api.get(`${consoles}/${vncId}?current=true`, { accept: 'json' });
    t.is(live.status, 200, live.text);
    t.is(live.body.address, '127.0.0.1', "the console listens on the agent's default display address");
    const refused = await api.post(`${consoles}/${vncId}/ticket`, '<action/>', { accept: 'json' });
    t.is(refused.status, 409, refused.text);
    t.regex(refused.body.detail, /the host's hypervisor cannot do this: .*virDomainUpdateDeviceFlags/, "libvirt's test driver cannot change a console");

    await system.killAgent('alpha');
    await system.waitForHostStatus('alpha', 'non_responsive');
    for (const response of [await api.post(`${consoles}/${vncId}/ticket`, '<action/>', { accept: 'json' }), await api.get(`${consoles}?current=true`, { accept: 'json' })]) {
      t.is(response.status, 503, response.text);
      t.regex(response.body.detail, /host alpha of VM console-faults is non_responsive; its console cannot be reached now/);
    }
    const configured = await api.get(consoles, { accept: 'json' });
    t.is(configured.status, 200, 'the console as configured needs no host');
    t.is(configured.body.graphics_console[0].protocol, 'vnc');
  });
}
