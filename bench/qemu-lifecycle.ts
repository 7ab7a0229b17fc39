import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Hypervisor } from '@unraid/libvirt';
import { ProcessSystem } from '../test/support/process-system.js';
import type { DatabaseKind } from '../test/support/scratch-database.js';
import { summarize, type Summary } from './lib/stats.js';
import { say, target, type BenchResult } from './lib/report.js';

export interface QemuLifecycleOptions {
  /** Start/stop cycles measured per side, after one warm-up cycle each. */
  cycles: number;
  memoryMiB: number;
}

/** Runs a command to its end and resolves with its wall time in ms; rejects with its error output when it fails. */
export function timedCommand(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const began = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - began) : reject(new Error(`${command} ${args.join(' ')}: ${errors.trim()}`))));
  });
}

/** The plain domain equivalent to Drover's: the same definition under another name and UUID, without Drover's metadata. */
export function plainTwin(droverXml: string): { xml: string; name: string } {
  const name = `plain-${randomUUID().slice(0, 8)}`;
  const xml = droverXml
    .replace(/<name>[^<]*<\/name>/, `<name>${name}</name>`)
    .replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${randomUUID()}</uuid>`)
    .replace(/<metadata>[\s\S]*?<\/metadata>/, '')
    .replace(/<title>[^<]*<\/title>/, '');
  return { xml, name };
}

/**
 * Benchmark 6, on the QEMU tier: the start and the stop of a guest (no OS,
 * TCG where there is no /dev/kvm) through Drover's REST API, from the request
 * to the synchronous answer with the VM `up` or `down`, against `virsh start`
 * and `virsh destroy` of an equivalent plain domain on the same libvirtd, in
 * alternating cycles. The floor also shows the same two calls made through a
 * libvirt connection held open (no virsh process to spawn).
 */
export async function qemuLifecycle(database: DatabaseKind, options: QemuLifecycleOptions): Promise<BenchResult> {
  const began = performance.now();
  const system = await ProcessSystem.start(database, { alpha: { qemu: true } });
  const held = new Hypervisor({ uri: system.qemuDaemon('alpha').uri });
  try {
    const daemon = system.qemuDaemon('alpha');
    await held.connectOpen();
    const vmId = await system.api.createVm('bench-qemu', options.memoryMiB);
    const expect = async (action: 'start' | 'stop', status: 'up' | 'down') => {
      const started = performance.now();
      const response = await system.api.action(vmId, action);
      const elapsed = performance.now() - started;
      if (response.status !== 200) throw new Error(`${action}: ${response.status} ${response.text}`);
      const now = await system.api.vmStatus(vmId);
      if (now !== status) throw new Error(`after ${action} the VM is ${now}, not ${status}`);
      return elapsed;
    };
    await expect('start', 'up');
    const twin = plainTwin(await daemon.virsh('dumpxml', '--inactive', vmId));
    const twinFile = path.join(daemon.directory, `${twin.name}.xml`);
    await writeFile(twinFile, twin.xml);
    await daemon.virsh('define', twinFile);
    await expect('stop', 'down');
    const virsh = (verb: string) => timedCommand('/usr/bin/virsh', [...daemon.virshArguments, verb, twin.name]);
    await virsh('start');
    await virsh('destroy');
    const plainDomain = await held.domainLookupByName(twin.name);
    const apiCall = async (call: () => Promise<unknown>) => {
      const started = performance.now();
      await call();
      return performance.now() - started;
    };

    const samples = { droverStart: [] as number[], droverStop: [] as number[], virshStart: [] as number[], virshDestroy: [] as number[], apiStart: [] as number[], apiDestroy: [] as number[] };
    for (let cycle = 0; cycle < options.cycles; cycle++) {
      samples.droverStart.push(await expect('start', 'up'));
      samples.droverStop.push(await expect('stop', 'down'));
      samples.virshStart.push(await virsh('start'));
      samples.virshDestroy.push(await virsh('destroy'));
      samples.apiStart.push(await apiCall(() => held.domainCreate(plainDomain)));
      samples.apiDestroy.push(await apiCall(() => held.domainDestroy(plainDomain)));
    }
    const figures: Record<string, Summary | number | string> = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, summarize(values)]));
    const ratio = (drover: Summary, floor: Summary) => Math.round((drover.p50 / floor.p50) * 1000) / 1000;
    const startRatio = ratio(figures.droverStart as Summary, figures.virshStart as Summary);
    const stopRatio = ratio(figures.droverStop as Summary, figures.virshDestroy as Summary);
    figures.startRatio = startRatio;
    figures.stopRatio = stopRatio;
    figures.domainType = (await daemon.virsh('dumpxml', vmId)).match(/<domain type='(\w+)'/)?.[1] ?? 'unknown';
    const show = (label: string, summary: Summary) => say(`  ${label.padEnd(44)} p50 ${summary.p50.toFixed(1)} ms  p90 ${summary.p90.toFixed(1)} ms  max ${summary.max.toFixed(1)} ms`);
    say(`qemu lifecycle (${database}), ${options.cycles} cycles of a ${options.memoryMiB} MiB guest, domain type ${figures.domainType}:`);
    show('Drover start (REST, synchronous, to up)', figures.droverStart as Summary);
    show('virsh start (plain twin)', figures.virshStart as Summary);
    show('libvirt virDomainCreate, connection held', figures.apiStart as Summary);
    show('Drover stop (REST, synchronous, to down)', figures.droverStop as Summary);
    show('virsh destroy (plain twin)', figures.virshDestroy as Summary);
    show('libvirt virDomainDestroy, connection held', figures.apiDestroy as Summary);
    const targets = [target('Drover start ÷ virsh start, p50', startRatio, '<=', 1.1, ''), target('Drover stop ÷ virsh destroy, p50', stopRatio, '<=', 1.1, '')];
    return { id: 'qemu-lifecycle', title: 'start and stop on QEMU vs virsh', database, figures, targets, notes: [], durationMs: Math.round(performance.now() - began) };
  } finally {
    await held.connectClose().catch(() => undefined);
    await system.close();
  }
}
