import { randomUUID } from 'node:crypto';
import test from 'ava';
import { cloudInitSeedAlias, designCpu, designDomain, designMachine } from '../../../agent/hypervisor/libvirt/designer.js';
import { serializeDomainXml } from '../../../agent/hypervisor/libvirt/domain-xml.js';
import { cloudInitMetaData, cloudInitUserData } from '../../../agent/hypervisor/libvirt/cloud-init-seed.js';
import { decodeSpec, encodeSpec } from '../../../shared/proto/codec.js';
import type { CloudInitSpec, CpuMode } from '../../../shared/model.js';
import { vmSpec } from './helpers.js';

const init = (overrides: Partial<CloudInitSpec> = {}): CloudInitSpec => ({
  hostName: '',
  userName: '',
  rootPassword: '',
  authorizedSshKeys: [],
  regenerateSshKeys: false,
  timezone: '',
  dnsServers: [],
  dnsSearch: [],
  customScript: '',
  ...overrides,
});

test('the CPU mode: custom models exactly; KVM passes through or models the host; emulation gives QEMU maximum CPU for either', (t) => {
  const cases: Array<[CpuMode | undefined, string | undefined, 'kvm' | 'qemu' | 'test', object]> = [
    [undefined, undefined, 'kvm', { mode: 'host-model' }],
    [undefined, undefined, 'qemu', {}],
    ['host_passthrough', undefined, 'kvm', { mode: 'host-passthrough' }],
    ['host_model', undefined, 'kvm', { mode: 'host-model' }],
    ['host_passthrough', undefined, 'qemu', { mode: 'maximum' }],
    ['host_model', undefined, 'qemu', { mode: 'maximum' }],
    ['host_passthrough', undefined, 'test', {}],
    ['custom', 'Nehalem', 'qemu', { mode: 'custom', model: 'Nehalem' }],
    [undefined, 'Skylake-Client', 'kvm', { mode: 'custom', model: 'Skylake-Client' }],
    ['custom', undefined, 'kvm', {}],
  ];
  for (const [cpuMode, customCpuModel, type, expected] of cases) t.deepEqual(designCpu({ cpuMode, customCpuModel }, type), expected, `${cpuMode}/${customCpuModel} on ${type}`);
  const xml = serializeDomainXml(designDomain(vmSpec({ cpuMode: 'custom', customCpuModel: 'Nehalem' }), 'qemu'));
  t.regex(xml, /<cpu mode="custom" match="exact" check="none"><model fallback="forbid">Nehalem<\/model><topology/);
});

test('the machine type and firmware: i440fx is pc, q35 firmware implies q35, UEFI is libvirt firmware selection with secure boot only when asked', (t) => {
  t.is(designMachine({ machine: 'i440fx' }), 'pc');
  t.is(designMachine({ machine: 'pc-q35-7.2', biosType: 'q35_ovmf' }), 'pc-q35-7.2');
  t.is(designMachine({ biosType: 'q35_sea_bios' }), 'q35');
  t.is(designMachine({ biosType: 'i440fx_sea_bios' }), undefined);
  t.is(designMachine({}), undefined);
  const ovmf = serializeDomainXml(designDomain(vmSpec({ biosType: 'q35_ovmf' }), 'qemu'));
  t.regex(ovmf, /<os firmware="efi"><type machine="q35">hvm<\/type><firmware><feature enabled="no" name="secure-boot"\/><feature enabled="no" name="enrolled-keys"\/><\/firmware>/);
  t.notRegex(ovmf, /<smm\/>/);
  const secure = serializeDomainXml(designDomain(vmSpec({ biosType: 'q35_secure_boot' }), 'qemu'));
  t.regex(secure, /<feature enabled="yes" name="secure-boot"\/><feature enabled="yes" name="enrolled-keys"\/>/);
  t.regex(secure, /<smm\/>/, 'secure boot needs SMM');
  t.notRegex(serializeDomainXml(designDomain(vmSpec({ biosType: 'q35_sea_bios' }), 'qemu')), /firmware/);
});

test('the cloud-init seed is a read-only CD-ROM of its own after the VM disks: IDE on i440fx, SATA on q35', (t) => {
  const storage = { id: randomUUID(), kind: 'localfs' as const, address: '', path: '/srv/vms' };
  const disk = (bus: 'ide' | 'sata') => {
    const diskId = randomUUID();
    return { diskId, volume: { storage, volumeId: diskId, format: 'qcow2' as const }, bus, bootable: true, readOnly: false };
  };
  const pc = designDomain(vmSpec({ disks: [disk('ide')] }), 'qemu', '/mnt', '127.0.0.1', '/seeds/vm.iso');
  t.like(pc.disks[1], { alias: cloudInitSeedAlias, device: 'cdrom', bus: 'ide', target: 'hdb', readOnly: true, format: 'raw', path: '/seeds/vm.iso' });
  const q35 = designDomain(vmSpec({ machine: 'q35', disks: [disk('sata'), disk('sata')] }), 'qemu', '/mnt', '127.0.0.1', '/seeds/vm.iso');
  t.like(q35.cdrom, { bus: 'sata', target: 'sdc' });
  t.like(q35.disks[2], { bus: 'sata', target: 'sdd' }, 'the seed takes the name after the disks and the CD-ROM drive');
  const xml = serializeDomainXml(q35);
  t.regex(xml, /<disk type="file" device="cdrom"><driver name="qemu" type="raw"\/><source file="\/seeds\/vm.iso"\/><target dev="sdd" bus="sata"\/><readonly\/>/);
  t.is(designDomain(vmSpec(), 'qemu').disks.length, 0, 'no seed unless one is given');
});

test('cloud-init user-data: JSON-quoted values that no setting can break out of, the default user renamed, root when none, the custom script after', (t) => {
  const userData = cloudInitUserData(init({ hostName: 'web1', userName: 'alice', rootPassword: 'p"w\nx: y', authorizedSshKeys: ['ssh-ed25519 AAAA a@b'], timezone: 'Europe/Paris', dnsServers: ['192.0.2.1'], customScript: '#cloud-config\nruncmd: [ls]' }));
  t.is(
    userData,
    [
      '#cloud-config',
      'hostname: "web1"',
      'fqdn: "web1"',
      'user: "alice"',
      'password: "p\\"w\\nx: y"',
      'chpasswd: {"expire": false}',
      'ssh_pwauth: true',
      'ssh_authorized_keys: ["ssh-ed25519 AAAA a@b"]',
      'ssh_deletekeys: false',
      'timezone: "Europe/Paris"',
      'manage_resolv_conf: true',
      'resolv_conf: {"nameservers": ["192.0.2.1"], "searchdomains": []}',
      'runcmd: [ls]',
      '',
    ].join('\n'),
  );
  const forRoot = cloudInitUserData(init({ regenerateSshKeys: true }));
  t.regex(forRoot, /^user: "root"\ndisable_root: false$/m);
  t.regex(forRoot, /^ssh_deletekeys: true$/m);
  t.notRegex(forRoot, /password/);
  const vmId = randomUUID();
  t.not(cloudInitMetaData(vmId, init(), userData), cloudInitMetaData(vmId, init(), forRoot), 'the instance id changes with the settings');
});

test('the spec carries CPU, machine, firmware and cloud-init across the wire', (t) => {
  const spec = vmSpec({ cpuMode: 'host_model', customCpuModel: 'Nehalem', machine: 'q35', biosType: 'q35_secure_boot', cloudInit: init({ hostName: 'h', authorizedSshKeys: ['k1', 'k2'], regenerateSshKeys: true }) });
  t.deepEqual(decodeSpec(encodeSpec(spec) as never), { ...spec, cdrom: undefined, bootDevices: undefined });
  const plain = vmSpec();
  t.deepEqual(decodeSpec(encodeSpec(plain) as never), { ...plain, cdrom: undefined, bootDevices: undefined, cpuMode: undefined, customCpuModel: undefined, machine: undefined, biosType: undefined, cloudInit: undefined });
});
