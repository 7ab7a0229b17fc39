import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { CommandExecutor } from '../../agent/commands/executor.js';
import { CommandJournal } from '../../agent/commands/journal.js';
import { LibvirtDriver } from '../../agent/hypervisor/libvirt/driver.js';
import { designDomain, volumePath } from '../../agent/hypervisor/libvirt/designer.js';
import { serializeDomainXml } from '../../agent/hypervisor/libvirt/domain-xml.js';
import { LibvirtConnection } from '../../agent/hypervisor/libvirt/native/index.js';
import type { MigrationProgress, StorageSpec, VmSpec } from '../../shared/model.js';
import { writeBusyGuestDisk } from '../support/busy-guest.js';
import { eventually } from '../support/eventually.js';
import { guestDomainType, QemuDaemon } from '../support/qemu-daemon.js';
import { temporaryDirectory, type TemporaryDirectory } from '../support/temporary-directory.js';
import { driverMigrationContract, type MigrationHosts } from '../unit/agent/driver-migration-contract.js';
import { vmSpec } from '../unit/agent/helpers.js';

/**
 * The migration methods of LibvirtDriver on real QEMU: two private libvirtd
 * daemons on this machine stand for two hosts. The source's daemon opens the
 * destination's URI itself (peer to peer); a URI without a host name passes
 * libvirt's check against migrating to the same host only with the unix
 * transport and a socket path (qemu+unix:///system?socket=...). Guests have
 * no operating system, so their memory would be nearly all zero pages, which
 * migrate at once: QEMU's generic loader fills 24 MiB of it with random
 * bytes, and a bandwidth cap (16 MiB/s, or 1 MiB/s for a slow migration)
 * makes the migration last seconds, or a minute. The executor's stall
 * detection is proven on the busy guest (test/support/busy-guest.ts), which
 * dirties 8 MiB of its memory over and over, far faster than 1 MiB/s.
 */

const ballastBytes = 24 * 2 ** 20;

interface Pair {
  directory: TemporaryDirectory;
  daemons: { source: QemuDaemon; destination: QemuDaemon };
  drivers: { source: LibvirtDriver; destination: LibvirtDriver };
  outsider: LibvirtConnection;
  ballast: string;
  mountRoot: string;
}

let pair: Promise<Pair> | undefined;
let pairDirectory = '';
const directory = () => pairDirectory;

async function startPair(): Promise<Pair> {
  const directory = await temporaryDirectory('qemu-migration');
  pairDirectory = directory.path;
  const mountRoot = path.join(directory.path, 'mnt');
  const ballast = path.join(directory.path, 'ballast.bin');
  await writeFile(ballast, randomBytes(ballastBytes));
  const daemons = { source: new QemuDaemon(path.join(directory.path, 'source')), destination: new QemuDaemon(path.join(directory.path, 'destination')) };
  await daemons.source.start();
  await daemons.destination.start();
  const drivers = {
    source: new LibvirtDriver({ uri: daemons.source.uri, dataDir: path.join(directory.path, 'source-agent'), mountRoot }),
    destination: new LibvirtDriver({ uri: daemons.destination.uri, dataDir: path.join(directory.path, 'destination-agent'), mountRoot }),
  };
  await drivers.source.open();
  await drivers.destination.open();
  const outsider = new LibvirtConnection(daemons.source.uri);
  await outsider.open();
  return { directory, daemons, drivers, outsider, ballast, mountRoot };
}

test.after.always(async () => {
  if (!pair) return;
  const { directory, daemons, drivers, outsider } = await pair;
  await outsider.close();
  await drivers.source.close();
  await drivers.destination.close();
  await daemons.source.stop();
  await daemons.destination.stop();
  await directory.remove();
});

/** The domain Drover would define for the spec, plus QEMU's generic loader writing the ballast into its memory at 16 MiB. */
async function ballastedXml(spec: VmSpec, ballast: string, mountRoot: string): Promise<string> {
  const xml = serializeDomainXml(designDomain(spec, await guestDomainType(), mountRoot));
  return xml
    .replace(/^<domain type="(\w+)">/, '<domain type="$1" xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0">')
    .replace(/<\/domain>$/, `<qemu:commandline><qemu:arg value="-device"/><qemu:arg value="loader,file=${ballast},addr=0x1000000,force-raw=on"/></qemu:commandline></domain>`);
}

async function fixtureHosts(t: ExecutionContext): Promise<MigrationHosts> {
  pair ??= startPair();
  const { daemons, drivers, outsider, ballast, mountRoot, directory } = await pair;
  const vms: string[] = [];
  t.teardown(async () => {
    for (const uuid of vms) {
      for (const daemon of [daemons.source, daemons.destination]) {
        await daemon.virsh('destroy', uuid).catch(() => undefined);
        await daemon.virsh('undefine', uuid).catch(() => undefined);
      }
    }
  });
  const newSpec = () => {
    const spec = vmSpec({ memoryBytes: 128 * 2 ** 20, cpu: { sockets: 1, cores: 1, threads: 1 } });
    vms.push(spec.id);
    return spec;
  };
  return {
    source: drivers.source,
    destination: drivers.destination,
    unreachableUri: `qemu+unix:///system?socket=${path.join(directory.path, 'nobody-listens.sock')}`,
    async migration(options = {}) {
      const spec = newSpec();
      await outsider.defineDomain(await ballastedXml(spec, ballast, mountRoot));
      await drivers.source.start(spec.id);
      return {
        spec,
        target: {
          migrationId: randomUUID(),
          destinationUri: daemons.destination.migrationUri,
          destinationAddress: '127.0.0.1',
          stallTimeoutMs: 60_000,
          deadlineMs: 600_000,
          sharedStorage: false,
          bandwidthMiBPerSecond: options.slow ? 1 : 16,
        },
      };
    },
    async defined() {
      const spec = newSpec();
      await drivers.source.define(spec);
      return spec;
    },
    async destinationStorage() {
      const storagePath = path.join(directory.path, `storage-${randomUUID()}`);
      await mkdir(storagePath);
      return { id: randomUUID(), kind: 'localfs', address: '', path: storagePath };
    },
  };
}

driverMigrationContract(test, { title: 'QEMU, LibvirtDriver', serial: true, hosts: fixtureHosts });

test.serial('QEMU, LibvirtDriver: four migrations at once, as many as Node has worker threads by default, leave the pool to the other calls: a file system call and listDomains answer while they run', async (t) => {
  const hosts = await fixtureHosts(t);
  const migrations = await Promise.all([0, 1, 2, 3].map(() => hosts.migration({ slow: true })));
  const running = migrations.map(({ spec, target }) => hosts.source.migrate!(spec.id, target).catch((error: unknown) => error));
  for (const { spec } of migrations) await eventually(async () => ((await hosts.source.migrationJob!(spec.id))?.dataTotalBytes ?? 0) > 0, 'every migration to move data', 60_000);
  const askedAt = Date.now();
  await stat(directory());
  const poolWaitMs = Date.now() - askedAt;
  t.true(poolWaitMs < 1_000, `a file system call, which needs a worker thread, answered in ${poolWaitMs} ms`);
  const listed = await hosts.source.listDomains();
  t.deepEqual(migrations.map(({ spec }) => listed.find((domain) => domain.uuid === spec.id)?.state), ['running', 'running', 'running', 'running']);
  await Promise.all(migrations.map(({ spec }) => hosts.source.abortMigration!(spec.id)));
  for (const outcome of await Promise.all(running)) t.like(outcome, { kind: 'hypervisor_failure' });
});

test.serial('QEMU, CommandExecutor on LibvirtDriver: a migration that cannot converge (a guest dirtying its memory faster than the bandwidth cap) is aborted once its remaining data stops shrinking, and answered timed_out with the VM running on its source', async (t) => {
  const { daemons, drivers, directory: pairPath, mountRoot } = await (pair ??= startPair());
  const storage: StorageSpec = { id: randomUUID(), kind: 'localfs', address: '', path: path.join(pairPath.path, `storage-${randomUUID()}`) };
  await mkdir(storage.path);
  await drivers.source.prepareStorage(storage);
  const diskId = randomUUID();
  const volume = { storage, volumeId: diskId, format: 'raw' as const };
  await writeBusyGuestDisk(volumePath(volume, mountRoot), { mebibytes: 8, mode: 'keep-dirtying' });
  const spec = vmSpec({ memoryBytes: 128 * 2 ** 20, cpu: { sockets: 1, cores: 1, threads: 1 }, disks: [{ diskId, volume, bus: 'virtio', bootable: true, readOnly: false }] });
  t.teardown(async () => {
    for (const daemon of [daemons.source, daemons.destination]) {
      await daemon.virsh('destroy', spec.id).catch(() => undefined);
      await daemon.virsh('undefine', spec.id).catch(() => undefined);
    }
  });
  await drivers.source.start(spec.id, spec);
  const journalDirectory = await temporaryDirectory('qemu-migration-journal');
  const journal = await CommandJournal.open(journalDirectory.path);
  t.teardown(async () => {
    await journal.close();
    await journalDirectory.remove();
  });
  const samples: MigrationProgress[] = [];
  const executor = new CommandExecutor({ driver: drivers.source, journal, shutdownTimeoutMs: 1_000, rebootTimeoutMs: 1_000, migrationPollMs: 500, onMigrationProgress: (_command, _vm, progress) => samples.push(progress) });
  const stallTimeoutMs = 6_000;
  const outcome = await executor.execute({
    commandId: randomUUID(),
    taskId: randomUUID(),
    kind: 'migrate',
    vmId: spec.id,
    migration: { migrationId: randomUUID(), destinationUri: daemons.destination.migrationUri, destinationAddress: '127.0.0.1', stallTimeoutMs, deadlineMs: 100_000, sharedStorage: true, bandwidthMiBPerSecond: 1 },
  });
  t.like(outcome, { ok: false, error: 'timed_out', domain: { state: 'running' } }, JSON.stringify(outcome));
  if (!outcome.ok) t.regex(outcome.message, /no progress for 6000 ms/);
  t.true(samples.some((sample) => sample.dataTotalBytes > 0), 'progress was reported');
  t.is(await drivers.destination.getDomain(spec.id), undefined, 'the destination has no copy');
  t.is((await drivers.source.getDomain(spec.id))?.state, 'running');
});
