import test from 'ava';
import { agentText, checkDomain, checkHostFacts, checkOutcome, ReportRefused } from '../../../controller/rules/agent-reports.js';
import type { HostFacts } from '../../../shared/model.js';

const facts: HostFacts = {
  hostId: '6f1c2a9e-3b7d-4c5e-8f90-123456789abc',
  hostname: 'host1.example.org',
  cpuCount: 64,
  cpuModel: 'EPYC-Rome',
  memoryBytes: 512 * 2 ** 30,
  libvirtVersion: '9.0.0',
  hypervisorType: 'QEMU',
  hypervisorVersion: '7.2.22',
  libvirtUri: 'qemu:///system',
  agentVersion: '0.1.0',
  cluster: 'Default',
  domainType: 'kvm',
  migrationUri: 'qemu+tls://host1.example.org/system',
  migrationAddress: 'host1.example.org',
};

test('the facts of a real host are taken, with a DNS name or an IP address as its name', (t) => {
  t.notThrows(() => checkHostFacts(facts));
  t.notThrows(() => checkHostFacts({ ...facts, hostname: '192.0.2.7' }));
  t.notThrows(() => checkHostFacts({ ...facts, hostname: 'fe80::1' }));
  t.notThrows(() => checkHostFacts({ ...facts, hypervisorVersion: '', cluster: '', domainType: '' }));
});

test('facts no real host has, and strings with markup, control characters or no end, are refused', (t) => {
  for (const [what, change] of [
    ['markup as the name', { hostname: '<img src=x>' }],
    ['an empty name', { hostname: '' }],
    ['a name of 300 characters', { hostname: `${'a'.repeat(60)}.`.repeat(5) }],
    ['a host id that is not a UUID', { hostId: '1; drop table hosts' }],
    ['1 PiB of memory', { memoryBytes: 2 ** 50 }],
    ['no memory', { memoryBytes: 0 }],
    ['a fractional CPU count', { cpuCount: 1.5 }],
    ['17,000 CPUs', { cpuCount: 17_000 }],
    ['a bell in the CPU model', { cpuModel: 'EPYC\u0007' }],
    ['a right-to-left override in the cluster', { cluster: 'Default\u202e' }],
    ['a CPU model of 200 characters', { cpuModel: 'x'.repeat(200) }],
    ['markup as a version', { agentVersion: '<b>1</b>' }],
  ] as const) {
    t.throws(() => checkHostFacts({ ...facts, ...change }), { instanceOf: ReportRefused }, what);
  }
});

test('domains are named by UUID and a name without markup; command results have their names checked and their messages cleaned', (t) => {
  const domain = { uuid: '6f1c2a9e-3b7d-4c5e-8f90-123456789abc', name: 'web-1', state: 'running' as const, managed: true };
  t.notThrows(() => checkDomain(domain));
  t.throws(() => checkDomain({ ...domain, uuid: 'x' }), { instanceOf: ReportRefused });
  t.throws(() => checkDomain({ ...domain, name: '<script>' }), { instanceOf: ReportRefused });
  t.throws(() => checkOutcome({ ok: true, isoFiles: [{ name: 'a\u0000.iso' }] }), { instanceOf: ReportRefused });
  t.deepEqual(checkOutcome({ ok: false, message: 'failed\u0007 at\nline 2' }), { ok: false, message: 'failed? at\nline 2' });
  t.is(agentText('x'.repeat(5000)).length, 2048);
});
