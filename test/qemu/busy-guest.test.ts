import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { busyGuestImage, busyGuestImageBytes, busyGuestPasses, guestDwords, plainBusyDomainXml, writeBusyGuestDisk, type BusyGuestOptions } from '../support/busy-guest.js';
import { eventually } from '../support/eventually.js';
import { guestDomainType, QemuDaemon } from '../support/qemu-daemon.js';
import { temporaryDirectory, type TemporaryDirectory } from '../support/temporary-directory.js';

const run = promisify(execFile);
let directory: TemporaryDirectory;
let daemon: QemuDaemon;

test.before(async () => {
  directory = await temporaryDirectory('busy-guest');
  daemon = new QemuDaemon(path.join(directory.path, 'libvirtd'));
  await daemon.start();
});

test.after.always(async () => {
  await daemon?.stop();
  await directory?.remove();
});

/** Defines and starts a plain 256 MiB domain booting the busy guest from a new disk of that format, and returns its name. */
async function startBusyGuest(name: string, options: BusyGuestOptions, diskFormat: 'raw' | 'qcow2'): Promise<string> {
  const diskFile = path.join(directory.path, `${name}.${diskFormat}`);
  if (diskFormat === 'qcow2') await run('qemu-img', ['create', '-q', '-f', 'qcow2', diskFile, '16M']);
  await writeBusyGuestDisk(diskFile, options);
  const xmlFile = path.join(directory.path, `${name}.xml`);
  await writeFile(xmlFile, plainBusyDomainXml({ name, memoryMiB: 256, diskFile, diskFormat, domainType: await guestDomainType() }));
  await daemon.virsh('define', xmlFile);
  await daemon.virsh('start', name);
  return name;
}

const mebibyte = 0x100000;

test('the busy guest image is a boot sector with its fields patched, padded to whole sectors, and bad options are refused with a clear error', async (t) => {
  const image = await busyGuestImage({ mebibytes: 200, mode: 'keep-dirtying', firstValue: 7 });
  t.is(image.length, busyGuestImageBytes);
  t.is(image.length % 512, 0);
  t.is(image.readUInt16LE(510), 0xaa55, 'the MBR signature');
  t.is(image.toString('latin1', 0x1a0, 0x1a4), 'BUSY');
  t.deepEqual([image.readUInt32LE(0x1a4), image.readUInt32LE(0x1a8), image.readUInt32LE(0x1ac)], [200, 1, 7]);
  t.true(image.subarray(512).every((byte) => byte === 0));
  await t.throwsAsync(busyGuestImage({ mebibytes: 1, mode: 'fill-once' }), { message: /fills 2 to 3072 MiB, not 1/ });
  await t.throwsAsync(busyGuestImage({ mebibytes: 2.5, mode: 'fill-once' }), { message: /not 2.5/ });
  await t.throwsAsync(busyGuestImage({ mebibytes: 64, mode: 'fill-forever' as never }), { message: /one of fill-once, keep-dirtying, not fill-forever/ });
  await t.throwsAsync(busyGuestImage({ mebibytes: 64, mode: 'fill-once', firstValue: 0 }), { message: /non-zero dword, not 0/ });
});

test.serial('QEMU: the busy guest in fill-once mode boots from the MBR of a raw disk, writes every page from 1 MiB up to its size once, and halts', async (t) => {
  const name = await startBusyGuest('fill-once', { mebibytes: 64, mode: 'fill-once', firstValue: 0x1234abcd }, 'raw');
  await eventually(async () => (await busyGuestPasses(daemon, name)) === 1, 'the guest to complete its pass', 30_000);
  for (const address of [mebibyte, 2 * mebibyte, 17 * mebibyte + 0x3000, 64 * mebibyte - 0x1000]) {
    t.deepEqual(await guestDwords(daemon, name, address, 2), [0x1234abcd, address], `the page at 0x${address.toString(16)} holds the value and its address`);
  }
  t.deepEqual(await guestDwords(daemon, name, 64 * mebibyte, 2), [0, 0], 'nothing is written from its size on');
  const registers = await eventually(async () => {
    const output = await daemon.virsh('qemu-monitor-command', '--hmp', name, 'info registers');
    return /\bHLT=1\b/.test(output) ? output : undefined;
  }, 'the guest CPU to halt');
  t.is(Number.parseInt(/\bEFL=([0-9a-f]+)/i.exec(registers)![1]!, 16) & 0x200, 0, 'interrupts are off while it halts');
  t.is(await busyGuestPasses(daemon, name), 1, 'it made one pass only');
  t.regex(await daemon.virsh('domstate', name), /running/);
});

test.serial('QEMU: the busy guest in keep-dirtying mode, written into a qcow2 disk, writes a new non-zero value into every page on each pass', async (t) => {
  const name = await startBusyGuest('keep-dirtying', { mebibytes: 200, mode: 'keep-dirtying' }, 'qcow2');
  const firstPasses = await eventually(async () => {
    const passes = await busyGuestPasses(daemon, name);
    return passes >= 1 ? passes : undefined;
  }, 'the guest to complete a pass', 30_000);
  const [before] = await guestDwords(daemon, name, 2 * mebibyte);
  t.not(before, 0);
  const after = await eventually(async () => {
    const [value] = await guestDwords(daemon, name, 2 * mebibyte);
    return value !== before ? value : undefined;
  }, 'the value at 2 MiB to change');
  t.not(after, 0);
  t.true((await busyGuestPasses(daemon, name)) > firstPasses, 'it keeps making passes');
  const [high, address] = await guestDwords(daemon, name, 199 * mebibyte, 2);
  t.not(high, 0, 'the last MiB is written too');
  t.is(address, 199 * mebibyte);
});
