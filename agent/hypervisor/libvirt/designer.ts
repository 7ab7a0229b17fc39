import path from 'node:path';
import type { BiosType, BootDevice, DiskBus, DiskDevice, IsoFileRef, NetworkSpec, NicDevice, StorageSpec, VmSpec, VolumeRef } from '../../../shared/model.js';
import type { CdromConfig, DiskConfig, DomainConfig, InterfaceConfig } from './domain-xml.js';
import type { DomainType } from './host-capabilities.js';
import { defaultDisplayAddress, lockedGraphics } from './consoles.js';

/** Where shared storage is mounted on a host, as oVirt mounts it; the agent's DROVER_STORAGE_MOUNT_ROOT overrides it. */
export const defaultMountRoot = '/rhev/data-center/mnt';

/**
 * The directory a storage domain lives in on this host: a localfs domain's
 * own directory; shared storage where oVirt would have mounted it, below the
 * mount root (`server:_export_path` for NFS, the spec with `/` as `_` for posixfs).
 */
export function storageDirectory(storage: StorageSpec, mountRoot: string): string {
  if (storage.kind === 'localfs') return storage.path;
  const mountName = storage.kind === 'nfs' ? `${storage.address}:${storage.path.replaceAll('/', '_')}` : storage.path.replaceAll('/', '_');
  return path.join(mountRoot, mountName);
}

/** The directory holding a storage domain's volumes, as oVirt lays domains out: `<domain directory>/<id>/images`. */
export function imagesDirectory(storage: StorageSpec, mountRoot: string): string {
  return path.join(storageDirectory(storage, mountRoot), storage.id, 'images');
}

export function volumePath(volume: VolumeRef, mountRoot: string): string {
  return path.join(imagesDirectory(volume.storage, mountRoot), volume.volumeId);
}

/** The image id oVirt keeps ISO files under; a storage domain's ISO directory is `<images directory>/<this id>`. */
export const isoImageId = '11111111-1111-1111-1111-111111111111';

/** The directory holding a storage domain's ISO files, where oVirt keeps them: `<domain directory>/<id>/images/11111111-1111-1111-1111-111111111111`. */
export function isoDirectory(storage: StorageSpec, mountRoot: string): string {
  return path.join(imagesDirectory(storage, mountRoot), isoImageId);
}

export function isoPath(file: IsoFileRef, mountRoot: string): string {
  return path.join(isoDirectory(file.storage, mountRoot), file.name);
}

/** What a VM boots from when its spec does not say. */
export const defaultBootDevices: readonly BootDevice[] = ['hd', 'cdrom', 'network'];

export const storagePoolPrefix = 'drover-sd-';

export function storagePoolName(storageId: string): string {
  return `${storagePoolPrefix}${storageId}`;
}

export function networkNameFor(network: Pick<NetworkSpec, 'id'>): string {
  return `drover-net-${network.id}`;
}

/** A bridge name of at most 15 characters (the kernel's limit) that stays the same for the network. */
export function bridgeNameFor(network: Pick<NetworkSpec, 'id'>): string {
  return `drd${network.id.replaceAll('-', '').slice(0, 12)}`;
}

/** The name libvirt knows a device by: user aliases carry the `ua-` prefix and survive redefinitions. */
export function deviceAlias(deviceId: string): string {
  return `ua-${deviceId}`;
}

const targetPrefix: Record<DiskBus, 'vd' | 'sd' | 'hd'> = { virtio: 'vd', virtio_scsi: 'sd', sata: 'sd', ide: 'hd' };
const libvirtBus: Record<DiskBus, DiskConfig['bus']> = { virtio: 'virtio', virtio_scsi: 'scsi', sata: 'sata', ide: 'ide' };

/** The device name of the n-th disk (0-based) with that prefix: vda, vdb, ..., vdz, vdaa, ... */
export function targetName(prefix: string, index: number): string {
  let suffix = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) suffix = String.fromCharCode(97 + ((n - 1) % 26)) + suffix;
  return `${prefix}${suffix}`;
}

/** Lays out disks in the spec's order (bootable first), naming each on its bus family; `taken` are names already in use (on a running domain). */
export function designDisks(disks: DiskDevice[], mountRoot: string, taken: ReadonlySet<string> = new Set()): DiskConfig[] {
  const next = new Map<string, number>();
  return disks.map((disk) => {
    const prefix = targetPrefix[disk.bus];
    let index = next.get(prefix) ?? 0;
    while (taken.has(targetName(prefix, index))) index++;
    next.set(prefix, index + 1);
    return {
      path: volumePath(disk.volume, mountRoot),
      format: disk.volume.format,
      bus: libvirtBus[disk.bus],
      target: targetName(prefix, index),
      readOnly: disk.readOnly,
      serial: disk.diskId.replaceAll('-', '').slice(0, 20),
      alias: deviceAlias(disk.diskId),
    };
  });
}

/** The alias of every domain's one CD-ROM drive. */
export const cdromAlias = deviceAlias('cdrom');

/** The CD-ROM drive, on SATA (which both i440fx and q35 machines offer), named after the disks on its bus family. */
export function designCdrom(medium: IsoFileRef | undefined, disks: readonly DiskConfig[], mountRoot: string): CdromConfig {
  const taken = new Set(disks.map((disk) => disk.target));
  let index = 0;
  while (taken.has(targetName('sd', index))) index++;
  return { path: medium ? isoPath(medium, mountRoot) : undefined, bus: 'sata', target: targetName('sd', index), alias: cdromAlias };
}

export function designInterface(nic: NicDevice): InterfaceConfig {
  return {
    source: nic.network ? { network: networkNameFor(nic.network) } : undefined,
    mac: nic.mac,
    model: nic.model,
    linkUp: nic.network !== null && nic.linked,
    alias: deviceAlias(nic.nicId),
  };
}

export const domainNamePrefix = 'drover-';

export function domainNameFor(vmId: string): string {
  return `${domainNamePrefix}${vmId}`;
}

/**
 * The libvirt CPU of a VM. A custom model (the `custom` mode, or a model
 * given without a mode) is used exactly, or the start fails. Under KVM,
 * host_passthrough and host_model are libvirt's modes of the same names
 * (host-model is also the default). Under emulation (domain type qemu) there
 * is no host CPU to pass through or model: both become libvirt's `maximum`
 * mode, QEMU's `-cpu max`, every feature the emulator offers.
 */
export function designCpu(spec: Pick<VmSpec, 'cpuMode' | 'customCpuModel'>, type: DomainType): Pick<DomainConfig['cpu'], 'mode' | 'model'> {
  const model = spec.customCpuModel;
  if (spec.cpuMode === 'custom' || (!spec.cpuMode && model)) return model ? { mode: 'custom', model } : {};
  if (type === 'qemu' && spec.cpuMode) return { mode: 'maximum' };
  if (type !== 'kvm') return {};
  return { mode: spec.cpuMode === 'host_passthrough' ? 'host-passthrough' : 'host-model' };
}

/** The machine type: the VM's own (`i440fx` is QEMU's `pc`), else q35 for a q35 firmware, else QEMU's default. */
export function designMachine(spec: Pick<VmSpec, 'machine' | 'biosType'>): string | undefined {
  if (spec.machine) return spec.machine === 'i440fx' ? 'pc' : spec.machine;
  return spec.biosType?.startsWith('q35') ? 'q35' : undefined;
}

const firmwareOf: Record<BiosType, Pick<DomainConfig['os'], 'firmware' | 'secureBoot'>> = {
  i440fx_sea_bios: {},
  q35_sea_bios: {},
  q35_ovmf: { firmware: 'efi', secureBoot: false },
  q35_secure_boot: { firmware: 'efi', secureBoot: true },
};

/** The alias of a VM's cloud-init seed drive, which no user device has (theirs are `ua-<uuid>`). */
export const cloudInitSeedAlias = 'ua-drover-cloud-init';

/** The read-only CD-ROM drive of a cloud-init seed: on SATA on a q35 machine (which has no IDE), on IDE otherwise, after the VM's disks and CD-ROM drive (`drives`). */
function designSeedDrive(file: string, machine: string | undefined, drives: ReadonlyArray<{ target: string }>): DiskConfig {
  const q35 = machine?.includes('q35') ?? false;
  const prefix = q35 ? 'sd' : 'hd';
  const taken = new Set(drives.map((drive) => drive.target));
  let index = 0;
  while (taken.has(targetName(prefix, index))) index++;
  return { path: file, format: 'raw', bus: q35 ? 'sata' : 'ide', target: targetName(prefix, index), readOnly: true, serial: 'cloud-init', alias: cloudInitSeedAlias, device: 'cdrom' };
}

function isWindows(osType: string): boolean {
  return osType.toLowerCase().startsWith('windows');
}

function singleLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

/**
 * Designs the domain of a VM for a host whose guests are of `type` (kvm on
 * hardware virtualization, qemu under emulation, test on the test driver),
 * with its graphics console on `displayAddress` behind a password nobody
 * knows; `cloudInitSeed` is the file of a cloud-init seed to attach.
 */
export function designDomain(spec: VmSpec, type: DomainType, mountRoot = defaultMountRoot, displayAddress = defaultDisplayAddress, cloudInitSeed?: string): DomainConfig {
  const emulated = type !== 'test';
  const windows = isWindows(spec.osType);
  const spice = spec.displayType === 'spice';
  const machine = designMachine(spec);
  const disks = designDisks(spec.disks, mountRoot);
  const cdrom = designCdrom(spec.cdrom, disks, mountRoot);
  return {
    disks: cloudInitSeed ? [...disks, designSeedDrive(cloudInitSeed, machine, [...disks, cdrom])] : disks,
    cdrom,
    interfaces: spec.nics.map(designInterface),
    scsiController: spec.disks.some((disk) => disk.bus === 'virtio_scsi'),
    type,
    name: domainNameFor(spec.id),
    uuid: spec.id,
    title: singleLine(spec.name),
    description: spec.description,
    metadata: { id: spec.id, name: spec.name, description: spec.description, clusterId: spec.clusterId, osType: spec.osType },
    memoryKiB: Math.ceil(spec.memoryBytes / 1024),
    vcpus: spec.cpu.sockets * spec.cpu.cores * spec.cpu.threads,
    cpu: { ...designCpu(spec, type), ...spec.cpu },
    os: { type: 'hvm', machine, ...firmwareOf[spec.biosType ?? 'i440fx_sea_bios'], boot: [...(spec.bootDevices ?? defaultBootDevices)] },
    features: spec.biosType === 'q35_secure_boot' ? ['acpi', 'apic', 'smm'] : ['acpi', 'apic'],
    hyperv: windows && type === 'kvm' ? { relaxed: true, vapic: true, spinlocks: 8191 } : undefined,
    clock: windows ? 'localtime' : 'utc',
    onPoweroff: 'destroy',
    onReboot: 'restart',
    onCrash: 'destroy',
    graphics: lockedGraphics(spec.displayType, displayAddress),
    video: spice ? { model: 'qxl', vramKiB: 65536, heads: 1 } : { model: 'vga', vramKiB: 16384, heads: 1 },
    inputs: [{ type: 'tablet', bus: 'usb' }],
    channels: spice ? [{ type: 'spicevmc', targetName: 'com.redhat.spice.0' }] : [],
    serialConsole: true,
    memballoon: emulated ? 'virtio' : undefined,
    rng: emulated ? 'virtio' : undefined,
  };
}
