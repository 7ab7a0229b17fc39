import { invalid } from '../../rules/errors.js';
import type { InitializationInput } from '../../rules/initialization.js';
import type { Fields } from './fields.js';

const hostNamePattern = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/;
const userNamePattern = /^[a-z_][a-z0-9_-]{0,31}$/;
const timezonePattern = /^[A-Za-z0-9_+/-]{1,64}$/;
const addressPattern = /^[0-9A-Fa-f:.]{2,45}$/;
const sshKeyPattern = /^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/=]+( .*)?$/;
const maxTextBytes = 64 * 1024;

function words(fields: Fields, name: string, pattern: RegExp, hint: string): string[] {
  const list = (fields.text(name, { max: 4096 }) ?? '').split(/[\s,]+/).filter(Boolean);
  const bad = list.find((word) => !pattern.test(word));
  if (bad !== undefined) throw invalid(`${fields.where}.${name}: "${bad}" is not ${hint}`);
  return list;
}

/** Reads oVirt's Initialization (the fields vm-fields.ts lists as implemented) into cloud-init settings. */
export function initializationInput(fields: Fields | undefined): InitializationInput | undefined {
  if (!fields) return undefined;
  const keys = (fields.text('authorized_ssh_keys', { max: maxTextBytes }) ?? '').split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
  const badKey = keys.findIndex((key) => !sshKeyPattern.test(key));
  if (badKey >= 0) throw invalid(`${fields.where}.authorized_ssh_keys: line ${badKey + 1} is not an SSH public key ("type base64 [comment]")`);
  const settings = {
    hostName: fields.text('host_name', { pattern: hostNamePattern, patternHint: 'must be a host name' }) ?? '',
    userName: fields.text('user_name', { pattern: userNamePattern, patternHint: 'must be a user name (lower-case letters, digits, "_" and "-", at most 32 characters)' }) ?? '',
    rootPassword: fields.text('root_password', { max: 1024 }),
    authorizedSshKeys: keys,
    regenerateSshKeys: fields.boolean('regenerate_ssh_keys') ?? false,
    timezone: fields.text('timezone', { pattern: timezonePattern, patternHint: 'must be a time zone name such as Europe/Paris' }) ?? '',
    dnsServers: words(fields, 'dns_servers', addressPattern, 'an IP address'),
    dnsSearch: words(fields, 'dns_search', hostNamePattern, 'a domain name'),
    customScript: fields.text('custom_script', { max: maxTextBytes }) ?? '',
  };
  const empty = !settings.hostName && !settings.userName && settings.rootPassword === undefined && keys.length === 0 && !settings.timezone && settings.dnsServers.length === 0 && settings.dnsSearch.length === 0 && !settings.customScript && !settings.regenerateSshKeys;
  return empty ? null : settings;
}
