import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ApiResponse } from '../test/support/api.js';
import { busyGuestFirstPage, busyGuestPasses, guestDwords, writeBusyGuestDisk, type BusyGuestOptions } from '../test/support/busy-guest.js';
import { eventually } from '../test/support/eventually.js';
import { ProcessSystem } from '../test/support/process-system.js';
import { guestDomainType, type QemuDaemon } from '../test/support/qemu-daemon.js';
import type { DatabaseKind } from '../test/support/scratch-database.js';
import { plainTwin, timedCommand } from './qemu-lifecycle.js';
import { summarize, type Summary } from './lib/stats.js';
import { say, target, type BenchResult } from './lib/report.js';

export interface MigrationBenchOptions {
  /** Migrations measured per side, alternating in direction, after one unmeasured round trip each. */
  migrations: number;
  /** Each guest's memory. */
  memoryMiB: number;
  /** How far each busy guest fills its memory (fill-once) before it is migrated. */
  fillMiB: number;
  /** Running VMs on the host put into maintenance. */
  maintenanceVms: number;
  /** Measured maintenances, the two hosts in turn, after one unmeasured one that gathers the VMs on one host. */
  maintenanceRounds: number;
}

const hostNames = ['alpha', 'beta'] as const;
type HostName = (typeof hostNames)[number];
const other = (host: HostName): HostName => (host === 'alpha' ? 'beta' : 'alpha');

/** The longest a guest may take to fill its memory after it starts, or one migration or maintenance may take. */
const fillTimeoutMs = 120_000;
const migrationTimeoutMs = 300_000;

/** Why the API cannot do what a half of the benchmark needs, when it answers 404 (the route does not exist yet), else undefined. */
function missingApi(what: string, response: ApiResponse): string | undefined {
  return response.status === 404 ? `${what} answered 404 (not in this build of the API): ${response.text.replace(/\s+/g, ' ').slice(0, 200)}` : undefined;
}

function expectOk(what: string, response: ApiResponse, ...statuses: number[]): void {
  if (!(statuses.length ? statuses : [200]).includes(response.status)) throw new Error(`${what} answered ${response.status}: ${response.text}`);
}

/** The file of a volume, named by its disk's id somewhere under the shared storage's mount root. */
async function volumeFile(root: string, diskId: string): Promise<string> {
  const found = (await readdir(root, { recursive: true })).find((entry) => path.basename(entry) === diskId);
  if (!found) throw new Error(`no volume file of disk ${diskId} under ${root}`);
  return path.join(root, found);
}

/** Where each guest runs, as the daemons say: the hosts whose daemon lists it running. */
async function runningOn(system: ProcessSystem, domain: string): Promise<HostName[]> {
  const hosts: HostName[] = [];
  for (const host of hostNames) if ((await system.qemuDaemon(host).virsh('list', '--name', '--uuid')).includes(domain)) hosts.push(host);
  return hosts;
}

/** What libvirt says of the migration job that brought a domain to a daemon: its time, the guest's downtime, the memory sent. */
interface CompletedJob {
  elapsedMs: number;
  downtimeMs: number;
  memoryMiB: number;
}

const unitMiB: Record<string, number> = { B: 1 / 2 ** 20, KiB: 1 / 1024, MiB: 1, GiB: 1024 };

/** The migration job libvirt recorded as completed on the destination (`virsh domjobinfo --completed`), or undefined when it kept none. */
async function completedJob(daemon: QemuDaemon, domain: string): Promise<CompletedJob | undefined> {
  const output = await daemon.virsh('domjobinfo', '--completed', domain).catch(() => '');
  const number = (label: string) => Number(new RegExp(`^${label}:\\s+([\\d.]+)`, 'm').exec(output)?.[1]);
  const memory = /^Memory processed:\s+([\d.]+)\s+(\w+)/m.exec(output);
  const job = { elapsedMs: number('Time elapsed'), downtimeMs: number('Total downtime'), memoryMiB: memory ? Number(memory[1]) * (unitMiB[memory[2]!] ?? Number.NaN) : Number.NaN };
  return Object.values(job).every(Number.isFinite) ? job : undefined;
}

/** Summaries of the completed jobs of the migrations of one side. */
function jobFigures(jobs: CompletedJob[]): Record<string, Summary> | undefined {
  if (jobs.length === 0) return undefined;
  return { elapsedMs: summarize(jobs.map((job) => job.elapsedMs)), downtimeMs: summarize(jobs.map((job) => job.downtimeMs)), memoryMiB: summarize(jobs.map((job) => job.memoryMiB)) };
}

/** Waits until a busy guest in fill-once mode has written all its pages. */
async function filled(daemon: QemuDaemon, domain: string): Promise<void> {
  await eventually(async () => (await busyGuestPasses(daemon, domain)) >= 1, `guest ${domain} to fill its memory`, fillTimeoutMs);
}

/** A shared (nfs) storage domain both hosts reach, attached to the Default data center. */
async function sharedStorage(system: ProcessSystem): Promise<string> {
  const { api } = system;
  await mkdir(path.join(system.mountRoot, 'nfs.example.org:_exports_bench'), { recursive: true });
  const storage = await api.post('/storagedomains', { name: 'bench-nfs', type: 'data', storage: { type: 'nfs', address: 'nfs.example.org', path: '/exports/bench' } }, { accept: 'json' });
  expectOk('adding the nfs storage domain', storage, 201);
  const dataCenter = (await api.get('/datacenters', { accept: 'json' })).body.data_center.find((item: { name: string }) => item.name === 'Default');
  expectOk('attaching the storage domain', await api.post(`/datacenters/${dataCenter.id}/storagedomains`, `<storage_domain id="${storage.body.id}"/>`), 201);
  return storage.body.id as string;
}

/** A VM booting the busy guest from a raw disk on the shared storage, created through the API and not started; its id and its disk's file. */
async function busyVm(system: ProcessSystem, storageId: string, name: string, memoryMiB: number, guest: BusyGuestOptions): Promise<{ vmId: string; file: string }> {
  const { api } = system;
  const vmId = await api.createVm(name, memoryMiB);
  const attached = await api.post(
    `/vms/${vmId}/diskattachments`,
    `<disk_attachment><bootable>true</bootable><interface>virtio</interface><active>true</active><disk><name>${name}-boot</name><provisioned_size>16777216</provisioned_size><format>raw</format><storage_domains><storage_domain id="${storageId}"/></storage_domains></disk></disk_attachment>`,
  );
  expectOk(`attaching a disk to ${name}`, attached, 201);
  const diskId = attached.body.disk_attachment.id as string;
  await eventually(async () => (await api.diskStatus(diskId)) === 'ok', `disk of ${name} to be created`, 60_000);
  const file = await volumeFile(system.mountRoot, diskId);
  await writeBusyGuestDisk(file, guest);
  return { vmId, file };
}

/** Starts a VM (synchronously), waits until its guest filled its memory, and answers the host it runs on. */
async function startFilled(system: ProcessSystem, vmId: string, hostIds: Record<HostName, string>): Promise<HostName> {
  expectOk(`starting VM ${vmId}`, await system.api.action(vmId, 'start'));
  const hostId = (await system.api.vm(vmId)).host?.id;
  const host = hostNames.find((name) => hostIds[name] === hostId);
  if (!host) throw new Error(`VM ${vmId} is up on no known host (${hostId})`);
  await filled(system.qemuDaemon(host), vmId);
  return host;
}

/**
 * The plain half: `virsh migrate --live --p2p` of the Drover VM's domain
 * defined again by hand under another name and UUID, without Drover's
 * metadata (benchmark 6's twin), booting a disk of its own with the same busy
 * guest, in a directory under the shared mount root that both daemons see.
 */
class PlainGuest {
  host: HostName = 'alpha';
  lastJob?: CompletedJob;

  private constructor(
    private readonly system: ProcessSystem,
    readonly name: string,
  ) {}

  static async start(system: ProcessSystem, drover: DroverGuest, options: MigrationBenchOptions): Promise<PlainGuest> {
    const twin = plainTwin(await system.qemuDaemon(drover.host).virsh('dumpxml', '--inactive', drover.vmId));
    const name = twin.name;
    const directory = path.join(system.mountRoot, 'plain');
    await mkdir(directory, { recursive: true });
    const diskFile = path.join(directory, `${name}.raw`);
    await writeBusyGuestDisk(diskFile, { mebibytes: options.fillMiB, mode: 'fill-once' });
    if (!twin.xml.includes(`'${drover.diskFile}'`)) throw new Error(`the domain of VM ${drover.vmId} does not boot its disk ${drover.diskFile}`);
    const xmlFile = path.join(system.directory, `${name}.xml`);
    await writeFile(xmlFile, twin.xml.replaceAll(`'${drover.diskFile}'`, `'${diskFile}'`));
    const daemon = system.qemuDaemon('alpha');
    await daemon.virsh('define', xmlFile);
    await daemon.virsh('start', name);
    await filled(daemon, name);
    return new PlainGuest(system, name);
  }

  /** Migrates the domain to the other host and answers the wall time of the virsh command, checked afterwards on both daemons. */
  async migrate(): Promise<number> {
    const from = this.system.qemuDaemon(this.host);
    const to = other(this.host);
    // The disk's directory is shared, which libvirt cannot tell: hence --unsafe.
    const elapsed = await timedCommand('/usr/bin/virsh', [...from.virshArguments, 'migrate', '--live', '--p2p', '--persistent', '--undefinesource', '--unsafe', this.name, this.system.qemuDaemon(to).uri.replace(/^qemu:/, 'qemu+unix:'), '--migrateuri', 'tcp://127.0.0.1']);
    const where = await runningOn(this.system, this.name);
    if (where.join() !== to) throw new Error(`after virsh migrate to ${to} the plain guest runs on [${where.join(', ')}]`);
    if ((await from.virsh('list', '--all', '--name')).includes(this.name)) throw new Error(`virsh migrate --undefinesource left the plain guest defined on ${this.host}`);
    this.host = to;
    this.lastJob = await completedJob(this.system.qemuDaemon(to), this.name);
    return elapsed;
  }
}

/** The Drover half: `POST /vms/{id}/migrate` naming the other host, synchronous. */
class DroverGuest {
  lastJob?: CompletedJob;

  private constructor(
    private readonly system: ProcessSystem,
    readonly vmId: string,
    readonly diskFile: string,
    private readonly hostIds: Record<HostName, string>,
    public host: HostName,
  ) {}

  static async start(system: ProcessSystem, storageId: string, hostIds: Record<HostName, string>, options: MigrationBenchOptions): Promise<DroverGuest> {
    const { vmId, file } = await busyVm(system, storageId, 'bench-migration', options.memoryMiB, { mebibytes: options.fillMiB, mode: 'fill-once' });
    return new DroverGuest(system, vmId, file, hostIds, await startFilled(system, vmId, hostIds));
  }

  /** Migrates the VM to the other host and answers the time to the 200, or why the API cannot migrate (a 404). */
  async migrate(): Promise<number | { missing: string }> {
    const to = other(this.host);
    const began = performance.now();
    const response = await this.system.api.post(`/vms/${this.vmId}/migrate`, `<action><host id="${this.hostIds[to]}"/></action>`);
    const elapsed = performance.now() - began;
    const missing = missingApi(`POST /vms/{id}/migrate`, response);
    if (missing) return { missing };
    expectOk(`migrating VM ${this.vmId} to ${to}`, response);
    if (response.body?.action?.status !== 'complete') throw new Error(`migrating VM ${this.vmId} answered 200 without <status>complete</status>: ${response.text}`);
    const vm = await this.system.api.vm(this.vmId);
    if (vm.status !== 'up' || vm.host?.id !== this.hostIds[to]) throw new Error(`after its migration to ${to} the VM is ${vm.status} on ${vm.host?.id}`);
    const where = await runningOn(this.system, this.vmId);
    if (where.join() !== to) throw new Error(`after its migration to ${to} the VM's guest runs on [${where.join(', ')}]`);
    this.host = to;
    this.lastJob = await completedJob(this.system.qemuDaemon(to), this.vmId);
    return elapsed;
  }
}

/**
 * Puts a host with running VMs into maintenance and answers the time from the
 * request to the host's status `maintenance`, checks that every VM runs on
 * the other host, and activates the host again.
 */
async function maintenance(system: ProcessSystem, host: HostName, hostIds: Record<HostName, string>, vmIds: string[]): Promise<number> {
  const { api } = system;
  const began = performance.now();
  const response = await api.post(`/hosts/${hostIds[host]}/deactivate`, '<action/>');
  expectOk(`deactivating ${host}`, response, 200, 202);
  const elapsed = await eventually(
    async () => {
      const status = (await api.get(`/hosts/${hostIds[host]}`, { accept: 'json' })).body?.status;
      if (status === 'maintenance') return performance.now() - began;
      if (status !== 'preparing_for_maintenance' && status !== 'up') throw new Error(`host ${host} is ${status}`);
      return undefined;
    },
    `host ${host} to be in maintenance`,
    migrationTimeoutMs,
  );
  for (const vmId of vmIds) {
    const vm = await api.vm(vmId);
    if (vm.status !== 'up' || vm.host?.id !== hostIds[other(host)]) throw new Error(`after the maintenance of ${host}, VM ${vm.name} is ${vm.status} on ${vm.host?.id}`);
  }
  for (const vmId of vmIds) if ((await runningOn(system, vmId)).join() !== other(host)) throw new Error(`after the maintenance of ${host}, VM ${vmId} does not run on ${other(host)} alone`);
  expectOk(`activating ${host}`, await api.post(`/hosts/${hostIds[host]}/activate`, '<action/>'), 200, 202);
  await system.waitForHostStatus(host, 'up', 60_000);
  return elapsed;
}

/**
 * Benchmark 7, on the QEMU tier: live migration of a 256 MiB guest whose
 * memory is mostly written (the busy guest, fill-once), through Drover's
 * `POST /vms/{id}/migrate` against `virsh migrate --live --p2p --persistent
 * --undefinesource` of an equivalent plain domain between the same two
 * daemons, alternating, back and forth; and the time a host with running VMs
 * takes from `POST /hosts/{id}/deactivate` to `maintenance`. A half whose API
 * answers 404 is skipped, with the reason printed and kept in the notes.
 */
export async function migrationBenchmark(database: DatabaseKind, options: MigrationBenchOptions): Promise<BenchResult> {
  const began = performance.now();
  const notes: string[] = [];
  const figures: Record<string, unknown> = { memoryMiB: options.memoryMiB, fillMiB: options.fillMiB, domainType: await guestDomainType() };
  const targets = [];
  const system = await ProcessSystem.start(database, { alpha: { qemu: true }, beta: { qemu: true } });
  try {
    const hostIds = { alpha: await system.hostId('alpha'), beta: await system.hostId('beta') };
    const storageId = await sharedStorage(system);
    const drover = await DroverGuest.start(system, storageId, hostIds, options);
    const plain = await PlainGuest.start(system, drover, options);

    await plain.migrate();
    await plain.migrate();
    // A Drover half that cannot migrate at all (the API answers 404, or the first migration fails) leaves the virsh figures standing.
    let droverMissing: string | undefined;
    let droverFailed: string | undefined;
    try {
      const warmUp = await drover.migrate();
      droverMissing = typeof warmUp === 'object' ? warmUp.missing : undefined;
      if (!droverMissing) await drover.migrate();
    } catch (error) {
      droverFailed = error instanceof Error ? error.message : String(error);
    }

    const samples = { virsh: [] as number[], drover: [] as number[] };
    const jobs = { virsh: [] as CompletedJob[], drover: [] as CompletedJob[] };
    for (let index = 0; index < options.migrations; index++) {
      samples.virsh.push(await plain.migrate());
      if (plain.lastJob) jobs.virsh.push(plain.lastJob);
      if (droverMissing || droverFailed) continue;
      const elapsed = await drover.migrate();
      if (typeof elapsed === 'object') throw new Error(`the migrate API vanished mid-run: ${elapsed.missing}`);
      samples.drover.push(elapsed);
      if (drover.lastJob) jobs.drover.push(drover.lastJob);
    }
    const [value, address] = await guestDwords(system.qemuDaemon(plain.host), plain.name, busyGuestFirstPage, 2);
    if (value === 0 || address !== busyGuestFirstPage || (await busyGuestPasses(system.qemuDaemon(plain.host), plain.name)) !== 1) {
      throw new Error('after its migrations the plain guest does not hold the memory it filled once: it was not moved live');
    }

    const show = (label: string, summary: Summary) => say(`  ${label.padEnd(52)} p50 ${summary.p50.toFixed(0)} ms  p90 ${summary.p90.toFixed(0)} ms  max ${summary.max.toFixed(0)} ms`);
    say(`migration (${database}), ${options.migrations} migrations per side of a ${options.memoryMiB} MiB guest with ${options.fillMiB} MiB written, domain type ${figures.domainType}:`);
    const virsh = summarize(samples.virsh);
    figures.virshMigrate = virsh;
    show('virsh migrate --live --p2p (plain domain)', virsh);
    const showJobs = (side: 'virsh' | 'drover') => {
      const summary = jobFigures(jobs[side]);
      figures[`${side}Job`] = summary;
      if (summary) say(`    its QEMU migration job: p50 ${summary.elapsedMs.p50.toFixed(0)} ms, downtime p50 ${summary.downtimeMs.p50.toFixed(0)} ms, ${summary.memoryMiB.p50.toFixed(0)} MiB of memory sent`);
    };
    showJobs('virsh');
    if (droverMissing) {
      notes.push(`Drover migration skipped: ${droverMissing}`);
      figures.droverMigrateSkipped = droverMissing;
      say(`  Drover migration SKIPPED: ${droverMissing}`);
    } else if (droverFailed) {
      notes.push(`Drover migration failed: ${droverFailed}`);
      figures.droverMigrateFailed = droverFailed;
      say(`  Drover migration FAILED: ${droverFailed}`);
    } else {
      const droverFigures = summarize(samples.drover);
      figures.droverMigrate = droverFigures;
      show('Drover POST /vms/{id}/migrate (synchronous, to 200)', droverFigures);
      showJobs('drover');
      const ratio = Math.round((droverFigures.p50 / virsh.p50) * 1000) / 1000;
      figures.migrateRatio = ratio;
      targets.push(target('Drover migrate ÷ virsh migrate, p50', ratio, '<=', 1.1, ''));
    }

    if (droverFailed && options.maintenanceVms > 0 && options.maintenanceRounds > 0) {
      figures.maintenanceVms = options.maintenanceVms;
      figures.maintenanceSkipped = 'it needs Drover migrations, which failed';
      say(`  maintenance of a host with ${options.maintenanceVms} running VMs SKIPPED: ${figures.maintenanceSkipped}`);
    } else if (options.maintenanceVms > 0 && options.maintenanceRounds > 0) {
      figures.maintenanceVms = options.maintenanceVms;
      await system.qemuDaemon(plain.host).virsh('destroy', plain.name);
      await system.qemuDaemon(plain.host).virsh('undefine', plain.name);
      expectOk('stopping the migrated VM', await system.api.action(drover.vmId, 'stop'));
      // alpha goes into maintenance empty, so that every VM starts on beta; activated again, it receives them in the first measured round.
      const probe = await system.api.post(`/hosts/${hostIds.alpha}/deactivate`, '<action/>');
      const missing = missingApi('POST /hosts/{id}/deactivate', probe);
      if (missing) {
        notes.push(`maintenance skipped: ${missing}`);
        figures.maintenanceSkipped = missing;
        say(`  maintenance of a host with ${options.maintenanceVms} running VMs SKIPPED: ${missing}`);
      } else {
        expectOk('deactivating alpha, with no VM', probe, 200, 202);
        await system.waitForHostStatus('alpha', 'maintenance', 60_000);
        const vmIds: string[] = [];
        for (let index = 0; index < options.maintenanceVms; index++) {
          const { vmId } = await busyVm(system, storageId, `bench-maintenance-${index}`, options.memoryMiB, { mebibytes: options.fillMiB, mode: 'fill-once' });
          if ((await startFilled(system, vmId, hostIds)) !== 'beta') throw new Error(`VM ${vmId} started on alpha, which is in maintenance`);
          vmIds.push(vmId);
        }
        expectOk('activating alpha', await system.api.post(`/hosts/${hostIds.alpha}/activate`, '<action/>'), 200, 202);
        await system.waitForHostStatus('alpha', 'up', 60_000);
        const times: number[] = [];
        let host: HostName = 'beta';
        for (let round = 0; round < options.maintenanceRounds; round++) {
          times.push(await maintenance(system, host, hostIds, vmIds));
          host = other(host);
        }
        const summary = summarize(times);
        figures.maintenance = summary;
        show(`maintenance, ${options.maintenanceVms} running VMs: deactivate to maintenance`, summary);
      }
    }
    const error = droverFailed ? `Drover migration failed: ${droverFailed}` : undefined;
    return { id: 'migration', title: 'live migration on QEMU vs virsh, and maintenance', database, figures, targets, notes, durationMs: Math.round(performance.now() - began), ...(error ? { error } : {}) };
  } finally {
    await system.close();
  }
}
