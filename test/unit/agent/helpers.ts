import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import type { DomainCommandKind, HostCommand, VmSpec } from '../../../shared/model.js';

export const silentLogger = pino({ level: 'silent' });

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
