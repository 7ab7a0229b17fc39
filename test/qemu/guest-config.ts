import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ExecutionContext, TestFn } from 'ava';
import { ProcessSystem } from '../support/process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';
import { cloudInitSeedAlias } from '../../agent/hypervisor/libvirt/designer.js';

type Test = TestFn<unknown>;

const run = promisify(execFile);
const password = 'Pa55-never-logged';
const sshKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGuestConfigTestKey alice@laptop';

/** The file of the VM's cloud-init seed drive in the running domain, or undefined when it has none. */
function seedFile(domainXml: string): string | undefined {
  const drive = new RegExp(`<disk type='file' device='cdrom'>(?:(?!</disk>)[\\s\\S])*?<alias name='${cloudInitSeedAlias}'/>`).exec(domainXml)?.[0];
  return drive ? /<source file='([^']+)'/.exec(drive)?.[1] : undefined;
}

/** A file of an ISO 9660 image, read back with isoinfo (genisoimage's companion). */
async function isoFile(image: string, name: string): Promise<string> {
  return (await run('isoinfo', ['-i', image, '-J', '-x', `/${name}`])).stdout;
}

async function startVm(t: ExecutionContext, system: ProcessSystem, vmId: string, body: string): Promise<void> {
  const response = await system.api.post(`/vms/${vmId}/start`, body);
  t.is(response.status, 200, response.text);
  t.is(response.body.action.status, 'complete', response.text);
  t.false(response.text.includes(password), 'the action answer holds no password');
}

async function stopVm(t: ExecutionContext, system: ProcessSystem, vmId: string): Promise<void> {
  const response = await system.api.action(vmId, 'stop');
  t.is(response.status, 200, response.text);
}

/** cloud-init, CPU models, machine types and firmware on real QEMU, through a real controller and agent. */
export function qemuGuestConfigSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] QEMU: a start with cloud-init attaches a NoCloud seed holding the host name, user and key; a one-time override replaces them; a plain start attaches none; the password is never logged`, async (t) => {
    const system = await ProcessSystem.start(database, { alpha: { qemu: true } });
    t.teardown(() => system.close());
    const daemon = system.qemuDaemon('alpha');
    const vmId = await system.api.createVm(
      'cloud-init',
      128,
      `<initialization><host_name>first.example.org</host_name><root_password>${password}</root_password></initialization>`,
    );
    const updated = await system.api.put(
      `/vms/${vmId}`,
      `<vm><initialization><host_name>web1.example.org</host_name><user_name>alice</user_name><authorized_ssh_keys>${sshKey}</authorized_ssh_keys><dns_servers>192.0.2.53</dns_servers><custom_script>runcmd: [touch, /ran]</custom_script></initialization></vm>`,
    );
    t.is(updated.status, 200, updated.text);

    await startVm(t, system, vmId, '<action><use_cloud_init>true</use_cloud_init></action>');
    const seed = seedFile(await daemon.virsh('dumpxml', vmId));
    if (!seed) return t.fail('the running domain has a cloud-init seed drive');
    t.regex((await run('isoinfo', ['-i', seed, '-d'])).stdout, /Volume id: cidata/, 'the seed is labelled cidata, as NoCloud looks for');
    const userData = await isoFile(seed, 'user-data');
    t.regex(userData, /^#cloud-config\n/);
    t.regex(userData, /^hostname: "web1\.example\.org"$/m);
    t.regex(userData, /^user: "alice"$/m);
    t.true(userData.includes(`ssh_authorized_keys: ["${sshKey}"]`), userData);
    t.true(userData.includes(`password: "${password}"`), 'the password reaches the guest, kept by an update that gave none');
    t.regex(userData, /^resolv_conf: \{"nameservers": \["192\.0\.2\.53"\]/m);
    t.regex(userData, /^runcmd: \[touch, \/ran\]$/m, 'the custom script follows the generated cloud-config');
    const metaData = await isoFile(seed, 'meta-data');
    t.regex(metaData, new RegExp(`^instance-id: "${vmId}-[0-9a-f]{12}"$`, 'm'));
    t.regex(metaData, /^local-hostname: "web1\.example\.org"$/m);

    await stopVm(t, system, vmId);
    await startVm(t, system, vmId, '<action><use_cloud_init>true</use_cloud_init><vm><initialization><host_name>once.example.org</host_name><user_name>bob</user_name></initialization></vm></action>');
    const overridden = seedFile(await daemon.virsh('dumpxml', vmId));
    if (!overridden) return t.fail('the start with an override has a seed drive');
    const onceData = await isoFile(overridden, 'user-data');
    t.regex(onceData, /^hostname: "once\.example\.org"$/m, 'the start action\'s initialization is used for this start');
    t.regex(onceData, /^user: "bob"$/m);
    t.false(onceData.includes(password), 'the override replaces all of the VM\'s settings for this start');
    t.is((await system.api.vm(vmId)).initialization.host_name, 'web1.example.org', 'the override is not stored');

    await stopVm(t, system, vmId);
    await startVm(t, system, vmId, '<action/>');
    t.is(seedFile(await daemon.virsh('dumpxml', vmId)), undefined, 'a start that does not ask for cloud-init attaches no seed');
    await stopVm(t, system, vmId);

    const logs = system.host('alpha').output.join('');
    t.true(logs.includes('"cloudInit"'), 'the agent logged the commands that carried cloud-init settings');
    t.false(logs.includes(password), 'the agent never logs the password');
    t.false((await system.api.get(`/vms/${vmId}`)).text.includes(password));
    t.false((await system.api.get('/tasks', { accept: 'json' })).text.includes(password), 'tasks do not show it');
  });

  test.serial(`[${database}] QEMU: a q35 VM with a custom CPU model and UEFI starts as asked (machine, CPU and OVMF loader in the live domain), secure boot too; host_passthrough under emulation is QEMU's maximum CPU; a UEFI VM is removed with its variable store`, async (t) => {
    // Under emulation whether or not the machine offers KVM: what is checked is QEMU's configuration (nested KVM often lacks the SMM that secure boot needs).
    const system = await ProcessSystem.start(database, { alpha: { qemu: true, agentEnvironment: { DROVER_DOMAIN_TYPE: 'qemu' } } });
    t.teardown(() => system.close());
    const daemon = system.qemuDaemon('alpha');

    const uefi = await system.api.createVm('uefi-q35', 256, '<cpu><mode>custom</mode></cpu><custom_cpu_model>Nehalem</custom_cpu_model><custom_emulated_machine>q35</custom_emulated_machine><bios><type>q35_ovmf</type></bios>');
    await startVm(t, system, uefi, '<action/>');
    const live = await daemon.virsh('dumpxml', uefi);
    t.regex(live, /<type arch='x86_64' machine='pc-q35-[\d.]+'>hvm<\/type>/, 'the machine is a q35 one');
    t.regex(live, /<cpu mode='custom' match='exact'[^>]*>\s*<model fallback='forbid'>Nehalem<\/model>/, 'the CPU is the custom model');
    t.regex(live, /<loader readonly='yes'[^>]*type='pflash'[^>]*>\/usr\/share\/OVMF\/OVMF_CODE[^<]*\.fd<\/loader>/, 'the firmware is OVMF');
    t.notRegex(live, /<loader[^>]*secure='yes'/, 'q35_ovmf is UEFI without secure boot');
    t.regex(live, /<nvram[^>]*>[^<]+<\/nvram>/, 'the guest has a UEFI variable store');

    const secure = await system.api.createVm('secure-boot', 256, '<bios><type>q35_secure_boot</type></bios>');
    await startVm(t, system, secure, '<action/>');
    const secureXml = await daemon.virsh('dumpxml', secure);
    t.regex(secureXml, /<loader readonly='yes' secure='yes' type='pflash'>\/usr\/share\/OVMF\/OVMF_CODE[^<]*\.fd<\/loader>/, 'secure boot runs a secure-boot OVMF build');
    t.regex(secureXml, /<smm state='on'\/>/, 'with SMM, which secure boot needs');
    t.regex(secureXml, /machine='pc-q35-[\d.]+'/, 'on q35, which the firmware implies');
    await stopVm(t, system, secure);

    const passthrough = await system.api.createVm('passthrough', 128, '<cpu><mode>host_passthrough</mode></cpu><custom_emulated_machine>pc</custom_emulated_machine>');
    await startVm(t, system, passthrough, '<action/>');
    const passthroughXml = await daemon.virsh('dumpxml', passthrough);
    t.regex(passthroughXml, /<cpu mode='maximum'/, 'under emulation the CPU is the emulator\'s maximum');
    t.regex(passthroughXml, /machine='pc-i440fx-[\d.]+'/, 'pc is the i440fx chipset');

    await stopVm(t, system, uefi);
    const removed = await system.api.delete(`/vms/${uefi}`);
    t.is(removed.status, 200, removed.text);
    await t.throwsAsync(daemon.virsh('domstate', uefi), { message: /failed to get domain|Domain not found/ }, 'the UEFI domain is undefined, with its NVRAM');
    await stopVm(t, system, passthrough);
  });
}
