import type { TestFn } from 'ava';
import { InProcessSystem } from '../support/in-process-system.js';
import type { DatabaseKind } from '../support/scratch-database.js';
import { assertFault } from '../support/api.js';
import { eventually } from '../support/eventually.js';

type Test = TestFn<unknown>;

const memory = 256 * 1024 * 1024;
const vmXml = (name: string, extra: string) => `<vm><name>${name}</name><memory>${memory}</memory><cluster><name>Default</name></cluster>${extra}</vm>`;

/** Fields oVirt has and Drover does not implement, each with the name the fault must give. */
const refused: Array<{ send: string; names: string[] }> = [
  { send: '<stateless>true</stateless>', names: ['vm.stateless'] },
  { send: '<delete_protected>true</delete_protected><soundcard_enabled>true</soundcard_enabled>', names: ['vm.delete_protected', 'vm.soundcard_enabled'] },
  { send: '<high_availability><enabled>true</enabled><priority>50</priority><restart_policy>always</restart_policy></high_availability>', names: ['vm.high_availability.restart_policy'] },
  { send: '<cpu><cpu_tune><vcpu_pins><vcpu_pin><vcpu>0</vcpu><cpu_set>1</cpu_set></vcpu_pin></vcpu_pins></cpu_tune></cpu>', names: ['vm.cpu.cpu_tune'] },
  { send: '<time_zone><name>Etc/GMT</name></time_zone>', names: ['vm.time_zone'] },
  { send: '<os><type>other</type><kernel>/boot/vmlinuz</kernel><cmdline>quiet</cmdline></os>', names: ['vm.os.kernel', 'vm.os.cmdline'] },
  { send: `<memory_policy><max>${4 * memory}</max></memory_policy>`, names: ['vm.memory_policy.max'] },
  { send: `<memory_policy><guaranteed>${2 * memory}</guaranteed><ballooning>false</ballooning></memory_policy>`, names: ['vm.memory_policy.guaranteed', 'vm.memory_policy.ballooning'] },
  { send: '<placement_policy><affinity>pinned</affinity><hosts><host><name>alpha</name></host></hosts></placement_policy>', names: ['vm.placement_policy.hosts'] },
  { send: '<bios><boot_menu><enabled>true</enabled></boot_menu></bios>', names: ['vm.bios.boot_menu.enabled'] },
  { send: '<cpu><architecture>ppc64</architecture></cpu>', names: ['vm.cpu.architecture'] },
  { send: '<display><type>vnc</type><monitors>2</monitors></display>', names: ['vm.display.monitors'] },
  { send: '<custom_properties><custom_property><name>hugepages</name><value>1</value></custom_property></custom_properties>', names: ['vm.custom_properties'] },
  { send: '<type>high_performance</type><comment>hello</comment>', names: ['vm.type', 'vm.comment'] },
  { send: '<initialization><host_name>web1</host_name><nic_configurations><nic_configuration><name>eth0</name></nic_configuration></nic_configurations></initialization>', names: ['vm.initialization.nic_configurations'] },
  { send: '<initialization><windows_license_key>XXXX</windows_license_key><org_name>acme</org_name></initialization>', names: ['vm.initialization.windows_license_key', 'vm.initialization.org_name'] },
  { send: '<console><enabled>false</enabled></console><usb><enabled>true</enabled></usb><io><threads>2</threads></io>', names: ['vm.console.enabled', 'vm.usb.enabled', 'vm.io.threads'] },
];

/** What oVirt's clients send with oVirt's defaults (the SDK, Ansible's ovirt_vm, Terraform's provider): accepted, since Drover does the same. */
const acceptedDefaults = [
  '<id>5a3c9a10-0000-4000-8000-000000000001</id>',
  '<comment></comment><type>server</type><stateless>false</stateless><delete_protected>false</delete_protected><start_paused>false</start_paused>',
  `<memory_policy><guaranteed>${memory}</guaranteed><max>${memory}</max><ballooning>true</ballooning></memory_policy>`,
  '<high_availability><enabled>false</enabled></high_availability><soundcard_enabled>false</soundcard_enabled><use_latest_template_version>false</use_latest_template_version>',
  '<console><enabled>true</enabled></console><usb><enabled>false</enabled></usb><io><threads>0</threads></io><cpu_shares>0</cpu_shares>',
  '<placement_policy><affinity>migratable</affinity></placement_policy><bios><boot_menu><enabled>false</enabled></boot_menu></bios>',
  '<cpu><architecture>x86_64</architecture><topology><sockets>1</sockets><cores>2</cores><threads>1</threads></topology></cpu><display><type>vnc</type><monitors>1</monitors><smartcard_enabled>false</smartcard_enabled></display>',
];

export function vmFieldsSuite(test: Test, database: DatabaseKind): void {
  test.serial(`[${database}] VM input: every field Drover does not implement is refused with a 400 that names it, and oVirt's defaults are accepted`, async (t) => {
    const system = await InProcessSystem.start(database, { label: 'vm-fields' });
    t.teardown(() => system.close());
    const { api } = system;
    for (const [index, { send, names }] of refused.entries()) {
      const created = await api.post('/vms', vmXml(`refused-${index}`, send));
      assertFault(t, created, 400, /Drover does not implement/);
      for (const name of names) t.true(created.body.fault.detail.includes(name), `the fault for ${send} names ${name}: ${created.body.fault.detail}`);
    }
    t.deepEqual((await api.get('/vms', { accept: 'json' })).body.vm ?? [], [], 'no refused VM was created');

    for (const [index, send] of acceptedDefaults.entries()) {
      const created = await api.post('/vms', vmXml(`defaults-${index}`, send));
      t.is(created.status, 201, `${send}: ${created.text}`);
    }
    const vmId = (await api.post('/vms', vmXml('updated', ''))).body.vm.id as string;
    assertFault(t, await api.put(`/vms/${vmId}`, '<vm><stateless>true</stateless></vm>'), 400, /vm\.stateless/);
    assertFault(t, await api.put(`/vms/${vmId}`, { high_availability: { priority: 101 } }), 400, /vm\.high_availability\.priority must be between 0 and 100/);
    t.is((await api.put(`/vms/${vmId}`, '<vm><stateless>false</stateless><description>kept</description></vm>')).status, 200, 'an update with a default is applied');

    const template = await api.post('/templates', `<template><name>with-init</name><vm id="${vmId}"/><initialization><host_name>x</host_name></initialization></template>`);
    assertFault(t, template, 400, /template\.initialization/);
    const startOptions = await api.post(`/vms/${vmId}/start`, '<action><vm><placement_policy><affinity>pinned</affinity></placement_policy></vm><volatile>true</volatile></action>');
    assertFault(t, startOptions, 400, /action\.vm\.placement_policy.*action\.volatile/);
    assertFault(t, await api.post(`/vms/${vmId}/start`, '<action><use_cloud_init>true</use_cloud_init></action>'), 400, /has no initialization/);
  });

  test.serial(`[${database}] VM input: CPU mode and model, machine type, firmware and cloud-init are stored and shown (never the root password; a start's one-time password is not kept once it ended), and contradictions are refused`, async (t) => {
    const system = await InProcessSystem.start(database, { label: 'vm-fields' });
    t.teardown(() => system.close());
    const { api } = system;
    const initialization =
      '<initialization><host_name>web1.example.org</host_name><user_name>alice</user_name><root_password>s3cret-Pa55</root_password>' +
      '<authorized_ssh_keys>ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0test alice@laptop</authorized_ssh_keys><timezone>Europe/Paris</timezone>' +
      '<dns_servers>192.0.2.53 192.0.2.54</dns_servers><dns_search>example.org</dns_search><custom_script>runcmd: [echo hi]</custom_script></initialization>';
    const created = await api.post(
      '/vms',
      vmXml('configured', `<cpu><mode>custom</mode></cpu><custom_cpu_model>Nehalem</custom_cpu_model><custom_emulated_machine>q35</custom_emulated_machine><bios><type>q35_ovmf</type></bios>${initialization}`),
    );
    t.is(created.status, 201, created.text);
    t.false(created.text.includes('s3cret-Pa55'), 'the answer to the creation holds no password');
    const vmId = created.body.vm.id as string;
    const vm = await api.vm(vmId);
    t.like(vm, { cpu: { mode: 'custom' }, custom_cpu_model: 'Nehalem', custom_emulated_machine: 'q35', bios: { type: 'q35_ovmf' } });
    t.like(vm.initialization, { host_name: 'web1.example.org', user_name: 'alice', timezone: 'Europe/Paris', dns_servers: '192.0.2.53 192.0.2.54', dns_search: 'example.org', custom_script: 'runcmd: [echo hi]' });
    t.is(vm.initialization.authorized_ssh_keys, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0test alice@laptop');
    t.is(vm.initialization.root_password, undefined, 'the root password is never shown, as in oVirt');
    t.false((await api.get(`/vms/${vmId}`)).text.includes('s3cret-Pa55'), 'the XML holds no password');

    assertFault(t, await api.put(`/vms/${vmId}`, '<vm><custom_emulated_machine>pc-i440fx-7.2</custom_emulated_machine></vm>'), 400, /bios\.type q35_ovmf needs a q35 machine/);
    assertFault(t, await api.post('/vms', vmXml('contradiction', '<custom_emulated_machine>i440fx</custom_emulated_machine><bios><type>q35_secure_boot</type></bios>')), 400, /needs a q35 machine/);
    assertFault(t, await api.put(`/vms/${vmId}`, '<vm><cpu><mode>passthrough</mode></cpu></vm>'), 400, /vm\.cpu\.mode must be one of custom, host_model, host_passthrough/);
    assertFault(t, await api.put(`/vms/${vmId}`, '<vm><custom_cpu_model>Nehalem;rm</custom_cpu_model></vm>'), 400, /vm\.custom_cpu_model must be a QEMU CPU model name/);
    assertFault(t, await api.put(`/vms/${vmId}`, '<vm><initialization><authorized_ssh_keys>not a key</authorized_ssh_keys></initialization></vm>'), 400, /authorized_ssh_keys: line 1/);

    const cleared = await api.put(`/vms/${vmId}`, '<vm><bios><type>cluster_default</type></bios><custom_emulated_machine></custom_emulated_machine><cpu><mode>host_passthrough</mode></cpu><custom_cpu_model></custom_cpu_model><initialization/></vm>');
    t.is(cleared.status, 200, cleared.text);
    const after = await api.vm(vmId);
    t.deepEqual(after.bios, { boot_menu: { enabled: 'false' }, type: 'cluster_default' }, 'cluster_default leaves the firmware to the host');
    t.is(after.custom_emulated_machine, undefined);
    t.is(after.custom_cpu_model, undefined);
    t.is(after.cpu.mode, 'host_passthrough');
    t.is(after.initialization, undefined, 'an empty initialization clears it');

    await system.addAgent({ name: 'alpha', memoryMiB: 4096 });
    const oneTime = 'one-time-Pa55';
    const started = await api.post(`/vms/${vmId}/start`, `<action><use_cloud_init>true</use_cloud_init><vm><initialization><host_name>once</host_name><root_password>${oneTime}</root_password></initialization></vm></action>`);
    t.is(started.status, 200, started.text);
    t.false(started.text.includes(oneTime));
    const taskId = started.body.action.task?.id ?? /tasks\/([0-9a-f-]{36})/.exec(started.text)?.[1];
    const written = await eventually(async () => {
      const [row] = (await system.controller.orm.em.fork().getConnection().execute('select state, params from tasks where id = ?', [taskId])) as Array<{ state: string; params: string | null }>;
      return row?.state === 'finished' ? row : undefined;
    }, 'the start task written as finished');
    t.is(written.params, null, 'an ended start keeps no parameters, so the one-time password is not stored');

    const source = (await api.post('/vms', vmXml('template-source', '<custom_emulated_machine>pc-q35-7.2</custom_emulated_machine><bios><type>q35_secure_boot</type></bios><cpu><mode>host_model</mode></cpu>'))).body.vm.id as string;
    const template = await api.post('/templates', `<template><name>secure</name><vm id="${source}"/></template>`);
    t.is(template.status, 201, template.text);
    t.like((await api.get(`/templates/${template.body.template.id}`, { accept: 'json' })).body, { bios: { type: 'q35_secure_boot' }, custom_emulated_machine: 'pc-q35-7.2', cpu: { mode: 'host_model' } });
  });
}
