import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Hypervisor } from '@unraid/libvirt';
import { eventually } from './eventually.js';

/** A libvirt daemon of its own whose test driver outlives any agent connected to it. */
export class LibvirtDaemon {
  private process?: ChildProcess;
  private keeper?: Hypervisor;

  constructor(readonly directory: string) {}

  get uri(): string {
    return `test+unix:///default?socket=${this.directory}/libvirt-sock`;
  }

  async start(): Promise<void> {
    await mkdir(path.join(this.directory, 'drivers'), { recursive: true });
    await writeFile(path.join(this.directory, 'libvirtd.conf'), `unix_sock_dir = "${this.directory}"\nunix_sock_rw_perms = "0700"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n`);
    this.process = spawn('/usr/sbin/libvirtd', ['--config', path.join(this.directory, 'libvirtd.conf'), '--pid-file', path.join(this.directory, 'pid')], {
      cwd: this.directory,
      env: { ...process.env, LIBVIRT_DRIVER_DIR: path.join(this.directory, 'drivers') },
      stdio: 'ignore',
    });
    this.keeper = await eventually(async () => {
      const connection = new Hypervisor({ uri: this.uri });
      await connection.connectOpen();
      return connection;
    }, 'libvirtd to accept connections', 10_000);
  }

  /** A connection to the daemon's host, for checking what the hypervisor says. */
  get hypervisor(): Hypervisor {
    if (!this.keeper) throw new Error('the daemon is not running');
    return this.keeper;
  }

  async stop(): Promise<void> {
    await this.keeper?.connectClose().catch(() => undefined);
    this.process?.kill('SIGTERM');
  }
}
