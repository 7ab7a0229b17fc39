import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { CloudInitSpec } from '../../../shared/model.js';
import { DriverError } from '../driver.js';

const run = promisify(execFile);

/** A YAML scalar or flow sequence: JSON's strings and arrays are YAML's double-quoted scalars and flow sequences. */
const yaml = (value: string | string[] | boolean) => JSON.stringify(value);

/**
 * The user-data of a NoCloud seed: cloud-config that sets the host name, the
 * user (`user`, the distribution's default user renamed; root when none is
 * named), its password and SSH keys, the time zone, DNS and whether to make
 * new SSH host keys, followed by the VM's own custom script, as oVirt
 * appends it.
 */
export function cloudInitUserData(init: CloudInitSpec): string {
  const user = init.userName || 'root';
  const lines = ['#cloud-config'];
  if (init.hostName) lines.push(`hostname: ${yaml(init.hostName)}`, `fqdn: ${yaml(init.hostName)}`);
  lines.push(`user: ${yaml(user)}`);
  if (user === 'root') lines.push('disable_root: false');
  if (init.rootPassword) lines.push(`password: ${yaml(init.rootPassword)}`, 'chpasswd: {"expire": false}', 'ssh_pwauth: true');
  if (init.authorizedSshKeys.length > 0) lines.push(`ssh_authorized_keys: ${yaml(init.authorizedSshKeys)}`);
  lines.push(`ssh_deletekeys: ${yaml(init.regenerateSshKeys)}`);
  if (init.timezone) lines.push(`timezone: ${yaml(init.timezone)}`);
  if (init.dnsServers.length > 0 || init.dnsSearch.length > 0) {
    lines.push('manage_resolv_conf: true', `resolv_conf: {"nameservers": ${yaml(init.dnsServers)}, "searchdomains": ${yaml(init.dnsSearch)}}`);
  }
  const generated = `${lines.join('\n')}\n`;
  return init.customScript ? `${generated}${init.customScript.replace(/^#cloud-config\s*\n/, '')}\n` : generated;
}

/** The meta-data of a NoCloud seed; the instance id changes with the settings, so that cloud-init applies changed settings again. */
export function cloudInitMetaData(vmId: string, init: CloudInitSpec, userData: string): string {
  const digest = createHash('sha256').update(userData).digest('hex').slice(0, 12);
  return `instance-id: ${yaml(`${vmId}-${digest}`)}\n${init.hostName ? `local-hostname: ${yaml(init.hostName)}\n` : ''}`;
}

/**
 * The cloud-init seeds of VMs on this host: ISO 9660 images labelled
 * `cidata` holding user-data and meta-data (cloud-init's NoCloud source),
 * made with genisoimage, one per VM in `directory`. A seed may hold a
 * password: its file is the agent's alone until libvirt hands it to the
 * guest's QEMU (dynamic ownership), and a directory the agent creates lets
 * others through but not list it, so QEMU can open the file by its path.
 */
export class CloudInitSeeds {
  constructor(private readonly directory: string) {}

  pathFor(vmId: string): string {
    return path.join(this.directory, `${vmId}.iso`);
  }

  /** Writes the seed of a VM (replacing any earlier one) and returns its file. */
  async write(vmId: string, init: CloudInitSpec): Promise<string> {
    await mkdir(this.directory, { recursive: true, mode: 0o711 });
    const staging = await mkdtemp(path.join(this.directory, '.staging-'));
    try {
      const userData = cloudInitUserData(init);
      await writeFile(path.join(staging, 'user-data'), userData, { mode: 0o600 });
      await writeFile(path.join(staging, 'meta-data'), cloudInitMetaData(vmId, init, userData), { mode: 0o600 });
      const image = path.join(staging, 'seed.iso');
      try {
        await run('genisoimage', ['-quiet', '-output', image, '-volid', 'cidata', '-joliet', '-rock', 'user-data', 'meta-data'], { cwd: staging });
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'genisoimage is not installed on this host' : (error as Error).message;
        throw new DriverError('hypervisor_failure', `cannot build the cloud-init seed of VM ${vmId}: ${reason}`);
      }
      const file = this.pathFor(vmId);
      await rename(image, file);
      return file;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Removes the seed of a VM, if it has one. */
  async remove(vmId: string): Promise<void> {
    await rm(this.pathFor(vmId), { force: true });
  }
}
