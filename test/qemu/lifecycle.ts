import type { ExecutionContext, TestFn } from 'ava';
import { ProcessSystem } from '../support/process-system.js';
import { guestDomainType } from '../support/qemu-daemon.js';
import type { DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

async function expectAction(t: ExecutionContext, system: ProcessSystem, vmId: string, action: string, status: string): Promise<void> {
  const response = await system.api.action(vmId, action);
  t.is(response.status, 200, `${action}: ${response.text}`);
  t.is(response.body.action.status, 'complete', `${action}: ${response.text}`);
  t.is(await system.api.vmStatus(vmId), status, `after ${action}`);
}

/** The lifecycle of a VM on real QEMU (TCG where there is no /dev/kvm), through a real controller and agent. */
export function qemuLifecycleSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] QEMU: a tiny guest starts, suspends, resumes and stops on a real hypervisor, as QEMU's processes show`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { qemu: true } });
    t.teardown(() => system.close());
    const daemon = system.qemuDaemon('alpha');
    const host = (await system.api.get(`/hosts/${await system.hostId('alpha')}`)).body.host;
    t.is(host.hypervisor.type, 'qemu');
    t.regex(host.hypervisor.version.full_version, /^qemu-\d+\.\d+\.\d+$/, 'the host shows the QEMU version');
    const kvm = (await guestDomainType()) === 'kvm';
    t.is(host.hypervisor.kvm, String(kvm), 'the host says whether its guests have KVM');
    t.is(host.hypervisor.domain_type, kvm ? 'kvm' : 'qemu');
    t.not(host.cpu.name, 'x86_64', 'the CPU is named by its model, not its architecture');

    const vmId = await system.api.createVm('qemu-tiny', 128);

    await expectAction(t, system, vmId, 'start', 'up');
    t.regex(await daemon.virsh('domstate', vmId), /running/, 'QEMU runs the guest');
    t.regex(await daemon.virsh('dumpxml', vmId), new RegExp(`<domain type='${kvm ? 'kvm' : 'qemu'}'`), 'the domain type is the one the host offers');
    await expectAction(t, system, vmId, 'suspend', 'suspended');
    t.regex(await daemon.virsh('domstate', vmId), /shut off/, 'the suspended guest has no QEMU process');
    await expectAction(t, system, vmId, 'start', 'up');
    t.regex(await daemon.virsh('domstate', vmId), /running/);
    await expectAction(t, system, vmId, 'stop', 'down');
    t.regex(await daemon.virsh('domstate', vmId), /shut off/);
    const removed = await system.api.delete(`/vms/${vmId}`);
    t.is(removed.status, 200, removed.text);
    await t.throwsAsync(daemon.virsh('domstate', vmId), { message: /failed to get domain|Domain not found/ }, 'the domain is undefined');
  });
}
