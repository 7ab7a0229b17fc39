import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { access, mkdir, mkdtemp, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repositoryRoot } from './source-files.js';

const run = promisify(execFile);

/** The assembly source of the boot sector, next to this module's source (dist/ has no copy). */
export const busyGuestSource = path.join(repositoryRoot, 'test/support/busy-guest.s');

/** Where assembled boot sectors are kept, one file per hash of the source. */
const cacheDirectory = path.join(os.tmpdir(), 'drover-busy-guest');

export const busyGuestModes = ['fill-once', 'keep-dirtying'] as const;
export type BusyGuestMode = (typeof busyGuestModes)[number];

const modeField: Record<BusyGuestMode, number> = { 'fill-once': 0, 'keep-dirtying': 1 };

/** The offsets in the boot sector of the fields busy-guest.s places with `.org`. */
const field = { magic: 0x1a0, fillMiB: 0x1a4, mode: 0x1a8, firstValue: 0x1ac, passes: 0x1b0 } as const;

/** Where the boot sector is in guest memory. */
const loadAddress = 0x7c00;

/** The guest-physical address of the dword that counts the passes the guest completed over its pages. */
export const busyGuestPassesAddress = loadAddress + field.passes;

/** The first page the guest writes; it writes every 4 KiB page from here up to `mebibytes` MiB. */
export const busyGuestFirstPage = 0x100000;

/**
 * The image's size: the boot sector and zeros, 1 MiB. SeaBIOS cannot read a
 * disk smaller than one cylinder of its geometry (16 heads of 63 sectors,
 * 504 KiB): it gives it 0 cylinders and fails "could not read the boot disk".
 */
export const busyGuestImageBytes = 1024 * 1024;

/** The largest fill: below the PCI hole of a 32-bit guest's address space. */
const maximumMiB = 3072;

export interface BusyGuestOptions {
  /** The guest fills its pages from 1 MiB up to this many MiB: at least 2, less than the guest's memory. */
  mebibytes: number;
  /** `fill-once`: one pass, then the guest halts. `keep-dirtying`: passes forever, the value changing each pass, so pages stay dirty. */
  mode: BusyGuestMode;
  /** The value the first pass writes (each later pass adds one, never writing 0); not 0. */
  firstValue?: number;
}

let assembled: Promise<Buffer> | undefined;

/** Assembles the boot sector once per source (GNU as and ld), cached in the temporary directory under the source's hash. */
function bootSector(): Promise<Buffer> {
  assembled ??= (async () => {
    const source = await readFile(busyGuestSource);
    const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
    const cached = path.join(cacheDirectory, `${hash}.bin`);
    const existing = await readFile(cached).catch(() => undefined);
    if (existing?.length === 512) return existing;
    await mkdir(cacheDirectory, { recursive: true });
    const work = await mkdtemp(path.join(cacheDirectory, 'build-'));
    try {
      await run('as', ['--32', '-o', path.join(work, 'busy-guest.o'), busyGuestSource]);
      await run('ld', ['-m', 'elf_i386', '--oformat', 'binary', '-Ttext', '0x7c00', '-e', '_start', '-o', path.join(work, 'busy-guest.bin'), path.join(work, 'busy-guest.o')]);
      const sector = await readFile(path.join(work, 'busy-guest.bin'));
      if (sector.length !== 512 || sector.readUInt16LE(510) !== 0xaa55 || sector.toString('latin1', field.magic, field.magic + 4) !== 'BUSY') {
        throw new Error(`assembling ${busyGuestSource} gave ${sector.length} bytes that are not the expected boot sector`);
      }
      const staged = path.join(cacheDirectory, `${hash}.${randomUUID()}.tmp`);
      await writeFile(staged, sector);
      await rename(staged, cached);
      return sector;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  })();
  assembled.catch(() => (assembled = undefined));
  return assembled;
}

/**
 * A bootable raw disk image of `busyGuestImageBytes` whose MBR makes the
 * guest write a non-zero dword into every 4 KiB page from 1 MiB up to
 * `mebibytes` MiB (and the page's address after it), once or forever.
 */
export async function busyGuestImage(options: BusyGuestOptions): Promise<Buffer> {
  const { mebibytes, mode, firstValue = 0x5a5a0001 } = options;
  if (!Number.isSafeInteger(mebibytes) || mebibytes < 2 || mebibytes > maximumMiB) throw new Error(`the busy guest fills 2 to ${maximumMiB} MiB, not ${mebibytes}`);
  if (!busyGuestModes.includes(mode)) throw new Error(`the busy guest's mode is one of ${busyGuestModes.join(', ')}, not ${String(mode)}`);
  if (!Number.isSafeInteger(firstValue) || firstValue < 1 || firstValue > 0xffffffff) throw new Error(`the busy guest's first value is a non-zero dword, not ${firstValue}`);
  const image = Buffer.alloc(busyGuestImageBytes);
  (await bootSector()).copy(image);
  image.writeUInt32LE(mebibytes, field.fillMiB);
  image.writeUInt32LE(modeField[mode], field.mode);
  image.writeUInt32LE(firstValue, field.firstValue);
  return image;
}

/**
 * Writes the busy guest over the start of a disk file: in place in a raw file
 * (creating it when missing, keeping its size when larger), through
 * `qemu-img convert -n` into any other format qemu-img knows (qcow2), whose
 * virtual size must be at least the image's. The guest must not be running
 * (qemu-img cannot open a disk a running QEMU holds, and this rejects).
 */
export async function writeBusyGuestDisk(file: string, options: BusyGuestOptions): Promise<void> {
  const image = await busyGuestImage(options);
  const exists = await access(file).then(
    () => true,
    () => false,
  );
  if (!exists) return writeFile(file, image);
  const format = (JSON.parse((await run('qemu-img', ['info', '--output=json', file])).stdout) as { format: string }).format;
  if (format === 'raw') {
    const handle = await open(file, 'r+');
    try {
      await handle.write(image, 0, image.length, 0);
    } finally {
      await handle.close();
    }
    return;
  }
  const work = await mkdtemp(path.join(os.tmpdir(), 'drover-busy-guest-write-'));
  try {
    const raw = path.join(work, 'busy-guest.raw');
    await writeFile(raw, image);
    await run('qemu-img', ['convert', '-q', '-n', '-f', 'raw', '-O', format, raw, file]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** What runs virsh against one daemon: a `QemuDaemon`. */
export interface Virsh {
  virsh(...args: string[]): Promise<string>;
}

/** `count` dwords of a running guest's physical memory from `address`, read through QEMU's monitor (`xp`). */
export async function guestDwords(daemon: Virsh, domain: string, address: number, count = 1): Promise<number[]> {
  const output = await daemon.virsh('qemu-monitor-command', '--hmp', domain, `xp /${count}xw 0x${address.toString(16)}`);
  const words = [...output.matchAll(/\b0x([0-9a-f]{1,8})\b/gi)].map((match) => Number.parseInt(match[1]!, 16));
  if (words.length !== count) throw new Error(`xp of ${count} dwords at 0x${address.toString(16)} answered: ${output.trim()}`);
  return words;
}

/** The passes over its pages the guest has completed. */
export async function busyGuestPasses(daemon: Virsh, domain: string): Promise<number> {
  return (await guestDwords(daemon, domain, busyGuestPassesAddress))[0]!;
}

export interface PlainDomainOptions {
  name: string;
  memoryMiB: number;
  /** The busy guest's disk, raw unless said. */
  diskFile: string;
  diskFormat?: 'raw' | 'qcow2';
  /** `kvm` or `qemu` (guestDomainType()). */
  domainType: 'kvm' | 'qemu';
}

/** A plain libvirt domain (no network, no Drover metadata) that boots the busy guest from a virtio disk. */
export function plainBusyDomainXml(options: PlainDomainOptions): string {
  return `<domain type='${options.domainType}'>
  <name>${options.name}</name>
  <uuid>${randomUUID()}</uuid>
  <memory unit='MiB'>${options.memoryMiB}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='${options.diskFormat ?? 'raw'}'/>
      <source file='${options.diskFile}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}
