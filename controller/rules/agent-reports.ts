import type { DomainStatus, HostFacts } from '../../shared/model.js';

/**
 * What the controller accepts from an agent's words: every string an agent
 * reports ends up in documents, logs and searches, so each has a length
 * limit and no control characters or markup, and numbers stay within what a
 * real machine has. A report that breaks one of these rules is refused whole.
 */
export const reportLimits = {
  maxCpuCount: 16_384,
  maxMemoryBytes: 64 * 2 ** 40,
  maxShortText: 128,
  maxDomainName: 255,
  maxUri: 1024,
} as const;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const hostNamePattern = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9_-]{0,62}))*\.?$/;
const ipAddressPattern = /^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:.]{2,45})$/;
const versionPattern = /^[0-9A-Za-z][0-9A-Za-z.+_~-]{0,63}$/;
const nameCharacters = /^[^\p{Cc}\p{Cf}<>&"]*$/u;

export class ReportRefused extends Error {}

function text(value: string, what: string, max: number, { optional = false } = {}): void {
  if (!value && !optional) throw new ReportRefused(`${what} is empty`);
  if (value.length > max) throw new ReportRefused(`${what} is longer than ${max} characters`);
  if (!nameCharacters.test(value)) throw new ReportRefused(`${what} holds control characters or markup`);
}

/** Refuses a Hello whose facts break the rules above. */
export function checkHostFacts(facts: HostFacts): void {
  if (!uuidPattern.test(facts.hostId)) throw new ReportRefused(`host id ${JSON.stringify(facts.hostId.slice(0, 64))} is not a UUID`);
  if (!hostNamePattern.test(facts.hostname) && !ipAddressPattern.test(facts.hostname)) throw new ReportRefused('the hostname is not a DNS name or IP address of at most 253 characters');
  if (!Number.isSafeInteger(facts.cpuCount) || facts.cpuCount < 1 || facts.cpuCount > reportLimits.maxCpuCount) throw new ReportRefused(`a host has 1 to ${reportLimits.maxCpuCount} CPUs, not ${facts.cpuCount}`);
  if (!Number.isSafeInteger(facts.memoryBytes) || facts.memoryBytes < 1 || facts.memoryBytes > reportLimits.maxMemoryBytes) throw new ReportRefused(`a host has up to 64 TiB of memory, not ${facts.memoryBytes} bytes`);
  text(facts.cpuModel, 'the CPU model', reportLimits.maxShortText);
  text(facts.hypervisorType, 'the hypervisor type', reportLimits.maxShortText);
  text(facts.domainType, 'the domain type', reportLimits.maxShortText, { optional: true });
  text(facts.cluster, 'the cluster name', reportLimits.maxShortText, { optional: true });
  text(facts.libvirtUri, 'the libvirt URI', reportLimits.maxUri);
  for (const [what, value] of [
    ['the libvirt version', facts.libvirtVersion],
    ['the agent version', facts.agentVersion],
  ] as const) {
    if (!versionPattern.test(value)) throw new ReportRefused(`${what} is not a version`);
  }
  if (facts.hypervisorVersion && !versionPattern.test(facts.hypervisorVersion)) throw new ReportRefused('the hypervisor version is not a version');
  if (facts.migrationUri && !migrationUriPattern.test(facts.migrationUri)) throw new ReportRefused(`the migration URI is not a QEMU libvirt URI of at most ${reportLimits.maxUri} characters without spaces`);
  if (facts.migrationAddress && !hostNamePattern.test(facts.migrationAddress) && !ipAddressPattern.test(facts.migrationAddress)) throw new ReportRefused('the migration address is not a DNS name or IP address');
}

/** A libvirt URI of the QEMU driver (qemu, qemu+tls, qemu+tcp, qemu+ssh, qemu+unix...), printable and without spaces or markup. */
const migrationUriPattern = new RegExp(`^qemu(\\+[a-z]+)?://[\\x21\\x23-\\x3b\\x3d\\x3f-\\x7e]{0,${reportLimits.maxUri - 16}}$`);

/** Refuses a domain report whose UUID or name breaks the rules above. */
export function checkDomain(domain: DomainStatus): void {
  if (!uuidPattern.test(domain.uuid)) throw new ReportRefused('a domain UUID is not a UUID');
  text(domain.name, 'a domain name', reportLimits.maxDomainName);
}

/** An agent's free text (a failure message, a reason) as the controller keeps it: control characters replaced, at most `max` characters. */
export function agentText(value: string, max = 2048): string {
  const cleaned = value.replace(/[\p{Cc}\p{Cf}]/gu, (character) => (character === '\n' || character === '\t' ? character : '?'));
  return cleaned.length > max ? `${cleaned.slice(0, max - 1)}…` : cleaned;
}

/** Refuses a command result whose names break the rules above, and cleans its free text. */
export function checkOutcome<T extends { ok: boolean; message?: string; domain?: DomainStatus; isoFiles?: { name: string }[]; medium?: { name: string } }>(outcome: T): T {
  if (outcome.domain) checkDomain(outcome.domain);
  for (const file of outcome.isoFiles ?? []) text(file.name, 'an ISO file name', reportLimits.maxDomainName);
  if (outcome.medium?.name) text(outcome.medium.name, 'a medium name', reportLimits.maxDomainName);
  return outcome.message === undefined ? outcome : { ...outcome, message: agentText(outcome.message) };
}
