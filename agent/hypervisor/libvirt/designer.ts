import type { VmSpec } from '../../../shared/model.js';
import type { DomainConfig } from './domain-xml.js';

export type HypervisorKind = 'test' | 'kvm';

export const domainNamePrefix = 'drover-';

export function domainNameFor(vmId: string): string {
  return `${domainNamePrefix}${vmId}`;
}

export function hypervisorKindOf(uri: string): HypervisorKind {
  return uri.startsWith('test:') ? 'test' : 'kvm';
}

function isWindows(osType: string): boolean {
  return osType.toLowerCase().startsWith('windows');
}

function singleLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

export function designDomain(spec: VmSpec, kind: HypervisorKind): DomainConfig {
  const windows = isWindows(spec.osType);
  const spice = spec.displayType === 'spice';
  return {
    type: kind,
    name: domainNameFor(spec.id),
    uuid: spec.id,
    title: singleLine(spec.name),
    description: spec.description,
    metadata: { id: spec.id, name: spec.name, description: spec.description, clusterId: spec.clusterId, osType: spec.osType },
    memoryKiB: Math.ceil(spec.memoryBytes / 1024),
    vcpus: spec.cpu.sockets * spec.cpu.cores * spec.cpu.threads,
    cpu: { mode: kind === 'kvm' ? 'host-model' : undefined, ...spec.cpu },
    os: { type: 'hvm', boot: ['hd', 'cdrom', 'network'] },
    features: ['acpi', 'apic'],
    hyperv: windows && kind === 'kvm' ? { relaxed: true, vapic: true, spinlocks: 8191 } : undefined,
    clock: windows ? 'localtime' : 'utc',
    onPoweroff: 'destroy',
    onReboot: 'restart',
    onCrash: 'destroy',
    graphics: { type: spec.displayType, autoport: true, listen: '0.0.0.0' },
    video: spice ? { model: 'qxl', vramKiB: 65536, heads: 1 } : { model: 'vga', vramKiB: 16384, heads: 1 },
    inputs: [{ type: 'tablet', bus: 'usb' }],
    channels: spice ? [{ type: 'spicevmc', targetName: 'com.redhat.spice.0' }] : [],
    serialConsole: true,
    memballoon: kind === 'kvm' ? 'virtio' : undefined,
    rng: kind === 'kvm' ? 'virtio' : undefined,
  };
}
