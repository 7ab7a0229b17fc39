import { randomUUID } from 'node:crypto';
import test from 'ava';
import { designDomain, domainNameFor } from '../../../agent/hypervisor/libvirt/designer.js';
import { chooseDomainType, parseCapabilities } from '../../../agent/hypervisor/libvirt/host-capabilities.js';
import { droverNamespace, readDroverMetadata, serializeDomainXml } from '../../../agent/hypervisor/libvirt/domain-xml.js';
import { serializeNetworkXml } from '../../../agent/hypervisor/libvirt/resource-xml.js';
import type { NicDevice } from '../../../shared/model.js';
import { libvirtVersionFromMaps } from '../../../agent/hypervisor/libvirt/node-facts.js';
import { vmSpec } from './helpers.js';

function capabilitiesXml(hostArch: string, guests: Array<{ arch: string; types: string[] }>): string {
  const guestXml = guests.map(({ arch, types }) => `<guest><os_type>hvm</os_type><arch name='${arch}'><wordsize>64</wordsize>${types.map((type) => `<domain type='${type}'/>`).join('')}</arch></guest>`);
  return `<capabilities><host><uuid>x</uuid><cpu><arch>${hostArch}</arch><model>EPYC-Rome</model><vendor>AMD</vendor></cpu></host>${guestXml.join('')}</capabilities>`;
}

test('the domain type comes from the host capabilities: kvm when offered, else QEMU emulation; an override must be offered', (t) => {
  const withKvm = parseCapabilities(capabilitiesXml('x86_64', [{ arch: 'i686', types: ['qemu'] }, { arch: 'x86_64', types: ['qemu', 'kvm'] }]));
  t.deepEqual(withKvm, { arch: 'x86_64', cpuModel: 'EPYC-Rome', domainTypes: ['qemu', 'kvm'] });
  t.is(chooseDomainType(withKvm), 'kvm');
  t.is(chooseDomainType(withKvm, 'qemu'), 'qemu', 'the operator may prefer emulation');
  const withoutKvm = parseCapabilities(capabilitiesXml('x86_64', [{ arch: 'x86_64', types: ['qemu'] }]));
  t.is(chooseDomainType(withoutKvm), 'qemu');
  t.throws(() => chooseDomainType(withoutKvm, 'kvm'), { message: /does not offer domain type kvm for x86_64; it offers qemu/ });
  t.is(chooseDomainType(parseCapabilities(capabilitiesXml('i686', [{ arch: 'i686', types: ['test'] }]))), 'test');
  t.throws(() => chooseDomainType(parseCapabilities(capabilitiesXml('x86_64', [{ arch: 'x86_64', types: ['xen'] }]))), { message: /offers no domain type Drover knows/ });
});

test('the designer lays out the VM for its domain type', (t) => {
  const spec = vmSpec({ memoryBytes: 3 * 2 ** 30, cpu: { sockets: 2, cores: 3, threads: 2 }, displayType: 'spice' });
  t.is(designDomain(spec, 'qemu').type, 'qemu');
  t.is(designDomain(spec, 'qemu').cpu.mode, undefined, 'emulation has no host CPU to model');
  const config = designDomain(spec, 'kvm');
  t.is(config.type, 'kvm');
  t.is(config.name, domainNameFor(spec.id));
  t.is(config.uuid, spec.id);
  t.is(config.memoryKiB, 3 * 2 ** 20);
  t.is(config.vcpus, 12);
  t.deepEqual({ sockets: config.cpu.sockets, cores: config.cpu.cores, threads: config.cpu.threads }, spec.cpu);
  t.is(config.graphics.type, 'spice');
  t.is(config.video.model, 'qxl');
  t.is(config.channels[0]?.type, 'spicevmc');
});

test('windows guests get a local clock and Hyper-V enlightenments on KVM', (t) => {
  const config = designDomain(vmSpec({ osType: 'windows_2022' }), 'kvm');
  t.is(config.clock, 'localtime');
  t.truthy(config.hyperv);
  t.is(designDomain(vmSpec({ osType: 'windows_2022' }), 'test').hyperv, undefined);
});

test('devices are named after their Drover ids, and a NIC on no network has its link down', (t) => {
  const storage = { id: randomUUID(), kind: 'localfs' as const, address: '', path: '/srv/vms' };
  const diskId = randomUUID();
  const network = { id: randomUUID(), name: 'backend', vlanId: 42, mtu: 9000 };
  const nic = (overrides: Partial<NicDevice>): NicDevice => ({ nicId: randomUUID(), name: 'eth0', mac: '56:6f:00:00:00:01', model: 'virtio', network, linked: true, ...overrides });
  const [linked, unlinked, unconnected] = [nic({}), nic({ linked: false }), nic({ network: null })];
  const config = designDomain(vmSpec({ disks: [{ diskId, volume: { storage, volumeId: diskId, format: 'qcow2' }, bus: 'virtio', bootable: true, readOnly: false }], nics: [linked, unlinked, unconnected] }), 'kvm');
  t.like(config.disks[0], { alias: `ua-${diskId}`, serial: diskId.replaceAll('-', '').slice(0, 20) });
  t.deepEqual(
    config.interfaces.map((device) => [device.alias, device.linkUp]),
    [
      [`ua-${linked.nicId}`, true],
      [`ua-${unlinked.nicId}`, false],
      [`ua-${unconnected.nicId}`, false],
    ],
  );
});

test("an isolated network gets a bridge of its own with the MTU; a network over the host's bridge leaves MTU and VLAN to the host; neither is tagged", (t) => {
  const isolated = serializeNetworkXml({ name: 'drover-net-1', bridge: 'drv-1', hostBridge: false, mtu: 9000 });
  t.regex(isolated, /<bridge name="drv-1" stp="on" delay="0"\/>/);
  t.regex(isolated, /<mtu size="9000"\/>/);
  t.notRegex(isolated, /<forward/);
  const bridged = serializeNetworkXml({ name: 'drover-net-2', bridge: 'backend', hostBridge: true, mtu: 9000 });
  t.regex(bridged, /<forward mode="bridge"\/>/);
  t.regex(bridged, /<bridge name="backend"\/>/);
  t.notRegex(bridged, /<mtu/);
  for (const xml of [isolated, bridged]) t.notRegex(xml, /<vlan|<tag/);
});

test('domain XML carries escaped Drover metadata that reads back', (t) => {
  const spec = vmSpec({ name: 'a <b> & "c"', description: 'x & y' });
  const xml = serializeDomainXml(designDomain(spec, 'test'));
  t.true(xml.includes(`xmlns:drover="${droverNamespace}"`));
  t.true(xml.includes('&lt;b&gt; &amp;'));
  t.regex(xml, /<topology sockets="1" cores="2" threads="1"\/>/);
  t.regex(xml, /<graphics type="vnc" autoport="yes" passwd="[^"]+" passwdValidTo="1970-01-01T00:00:00"><listen type="address" address="127.0.0.1"\/>/);
  t.deepEqual(readDroverMetadata(xml), { id: spec.id, name: spec.name, description: spec.description, clusterId: spec.clusterId, osType: spec.osType });
});

test('metadata is found under any prefix and absent metadata reads as undefined', (t) => {
  const xml = `<domain><name>x</name><metadata><other:thing xmlns:other="urn:x"/><d:vm xmlns:d="${droverNamespace}"><d:id>42</d:id><d:name>n</d:name></d:vm></metadata></domain>`;
  t.is(readDroverMetadata(xml)?.id, '42');
  t.is(readDroverMetadata(xml)?.name, 'n');
  t.is(readDroverMetadata('<domain><name>x</name></domain>'), undefined);
  t.is(readDroverMetadata('<domain><metadata><vm xmlns="urn:other"><id>1</id></vm></metadata></domain>'), undefined);
});

test('the libvirt version is derived from the loaded library file name', (t) => {
  const maps = [
    '7f00-7f01 r--p 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/libvirt-lxc.so.0.9000.0',
    '7f02-7f03 r-xp 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libvirt.so.0.10010.2',
  ].join('\n');
  t.is(libvirtVersionFromMaps(maps), '10.10.2');
  t.is(libvirtVersionFromMaps('7f02-7f03 r-xp 00000000 08:01 2 /lib/libvirt.so.0.9000.0\n'), '9.0.0');
  t.is(libvirtVersionFromMaps('7f02-7f03 r-xp 00000000 08:01 2 /lib/libc.so.6'), '');
});
