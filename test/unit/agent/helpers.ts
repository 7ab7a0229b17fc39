import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import type { DomainCommandKind, HostCommand, VmSpec } from '../../../shared/model.js';

export const silentLogger = pino({ level: 'silent' });

export async function temporaryDirectory(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const directory = await mkdtemp(path.join(os.tmpdir(), `drover-${prefix}-`));
  return { path: directory, remove: () => rm(directory, { recursive: true, force: true }) };
}

export function vmSpec(overrides: Partial<VmSpec> = {}): VmSpec {
  return {
    id: randomUUID(),
    name: 'web-1',
    description: 'a test VM',
    memoryBytes: 512 * 2 ** 20,
    cpu: { sockets: 1, cores: 2, threads: 1 },
    osType: 'rhel_9x64',
    displayType: 'vnc',
    clusterId: randomUUID(),
    disks: [],
    nics: [],
    ...overrides,
  };
}

export function hostCommand(kind: DomainCommandKind, vmId: string, spec?: VmSpec): HostCommand {
  return { commandId: randomUUID(), taskId: randomUUID(), kind, vmId, spec };
}

export async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 3_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
