import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** What a libvirt test-driver node declares: its memory, its CPUs (one socket of `cores` × `threads`), and the domains it holds at first. */
export interface TestHostShape {
  memoryMiB: number;
  cores?: number;
  threads?: number;
  /** Domain descriptions, such as testDomainXml writes. */
  domains?: string[];
}

/** A libvirt test-driver node description; 4 cores of one thread each unless the shape says otherwise. */
export function hostXml({ memoryMiB, cores = 4, threads = 1, domains = [] }: TestHostShape): string {
  return `<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>${cores}</cores><threads>${threads}</threads><active>${cores * threads}</active><mhz>2000</mhz><model>x86_64</model></cpu><memory>${memoryMiB * 1024}</memory>${domains.join('')}</node>`;
}

/**
 * A test-driver domain of 64 MiB and one vCPU. It is running on a new
 * connection unless `runstate` names another libvirt domain state (3 paused,
 * 4 shutting down, 5 shut off, 6 crashed, 7 suspended by power management).
 */
export function testDomainXml(name: string, uuid: string, runstate?: number): string {
  return `<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'><name>${name}</name><uuid>${uuid}</uuid><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os>${runstate ? `<test:runstate>${runstate}</test:runstate>` : ''}</domain>`;
}

/**
 * Writes a test-driver node file NAME.xml into `directory` and returns its
 * test:/// URI. Every connection to the URI gets a host of its own, which
 * starts as the file describes it: unlike test:///default, nothing a test does
 * on it is seen by other connections.
 */
export async function privateTestHost(directory: string, name: string, shape: TestHostShape): Promise<string> {
  const file = path.join(directory, `${name}.xml`);
  await writeFile(file, hostXml(shape));
  return `test://${file}`;
}
