import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Hypervisor } from '@unraid/libvirt';
import { eventually } from './eventually.js';

/** The directories a system libvirtd uses, each replaced by one of the daemon's own in its mount namespace. */
const privateDirectories = ['/run/libvirt', '/var/lib/libvirt', '/var/log/libvirt', '/etc/libvirt'] as const;

/**
 * Where every QEMU daemon of this machine keeps QEMU's capabilities. QEMU's
 * first capability probe takes seconds to a minute; libvirt rewrites its cache
 * files whole, so daemons can share them and only the first one probes.
 */
const sharedCapabilityCache = path.join(os.tmpdir(), 'drover-qemu-capabilities');

/**
 * Where the QEMU daemons of this machine lease their blocks of ports (consoles, websockets, migrations).
 * libvirt picks a free port for each guest's console by trying to bind it, and
 * QEMU binds it a moment later: two daemons that start guests at the same
 * time could pick one port, and one guest would fail to start. Each daemon
 * therefore takes a block of ports of its own for its lifetime, below the
 * ports Linux hands out to outgoing connections.
 */
const displayPortLeases = path.join(os.tmpdir(), 'drover-qemu-display-ports');
const displayPortsPerDaemon = 64;
const firstLeasedDisplayPort = 20_000;
const lastLeasedDisplayPort = 32_767;

/** Whether a process of that pid exists (one of another user's counts). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The domain type the QEMU tier's guests run as on this machine: kvm where there is /dev/kvm, else QEMU's emulation. */
export async function guestDomainType(): Promise<'kvm' | 'qemu'> {
  return (await access('/dev/kvm').then(() => true, () => false)) ? 'kvm' : 'qemu';
}

/** Leases a block of console ports no other live daemon's process holds; a lease whose process died is taken over. */
async function leaseDisplayPorts(): Promise<{ min: number; max: number; file: string }> {
  await mkdir(displayPortLeases, { recursive: true });
  for (let min = firstLeasedDisplayPort; min + displayPortsPerDaemon - 1 <= lastLeasedDisplayPort; min += displayPortsPerDaemon) {
    const file = path.join(displayPortLeases, String(min));
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(file, `${process.pid} ${randomUUID()}`, { flag: 'wx' });
        return { min, max: min + displayPortsPerDaemon - 1, file };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number((await readFile(file, 'utf8').catch(() => '')).split(' ')[0]);
        if (!Number.isSafeInteger(holder) || holder <= 0 || isProcessAlive(holder)) break;
        await rm(file, { force: true });
      }
    }
  }
  throw new Error(`every block of console ports from ${firstLeasedDisplayPort} to ${lastLeasedDisplayPort} is leased`);
}

/** The qemu.conf settings that give a daemon's consoles, websockets and migrations the ports of its leased block. */
function portRanges(min: number): string[] {
  return [
    `remote_display_port_min = ${min}`,
    `remote_display_port_max = ${min + 15}`,
    `remote_websocket_port_min = ${min + 16}`,
    `remote_websocket_port_max = ${min + 31}`,
    `migration_port_min = ${min + 32}`,
    `migration_port_max = ${min + 63}`,
  ];
}

/** Why this machine cannot run the QEMU tier, or undefined when it can. */
export async function qemuTierProblem(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'the QEMU tier runs private libvirtd daemons in mount namespaces, which needs root';
  for (const binary of ['/usr/sbin/libvirtd', '/usr/bin/qemu-system-x86_64', '/usr/bin/unshare', '/usr/bin/virsh']) {
    const present = await readFile(binary).then(
      () => true,
      () => false,
    );
    if (!present) return `${binary} is missing; scripts/setup.sh installs it`;
  }
  const passwd = await readFile('/etc/passwd', 'utf8');
  if (!/^libvirt-qemu:/m.test(passwd)) return 'the libvirt-qemu user is missing (libvirtd 9 needs it); scripts/setup.sh makes it';
  return undefined;
}

export interface QemuDaemonOptions {
  /** The host UUID libvirt reports for this daemon (each "host" of a test needs its own). */
  hostUuid?: string;
  /** Extra lines for the daemon's qemu.conf. */
  qemuConf?: string[];
}

/**
 * A private libvirtd with the QEMU driver: a real hypervisor host for the
 * QEMU test tier. It runs as root in a mount namespace of its own, where
 * /run/libvirt, /var/lib/libvirt, /var/log/libvirt and /etc/libvirt are
 * directories of the daemon's (so several daemons run side by side and
 * none touches the machine's own libvirt), with QEMU's capability cache
 * shared. Guests run as root without a security driver, and under TCG where
 * the machine has no /dev/kvm. Stopping the daemon destroys its guests.
 */
export class QemuDaemon {
  private process?: ChildProcess;
  private keeper?: Hypervisor;
  private displayPorts?: { min: number; max: number; file: string };
  readonly hostUuid: string;
  readonly output: string[] = [];

  constructor(
    readonly directory: string,
    private readonly options: QemuDaemonOptions = {},
  ) {
    this.hostUuid = options.hostUuid ?? randomUUID();
  }

  /** The URI an agent on this "host" connects to. */
  get uri(): string {
    return `qemu:///system?socket=${this.privatePath('/run/libvirt')}/libvirt-sock`;
  }

  /**
   * The URI another daemon's libvirtd reaches this one at, for a peer-to-peer
   * migration: the remote driver over the unix socket (a plain qemu:/// URI
   * opened inside a libvirtd is that libvirtd itself).
   */
  get migrationUri(): string {
    return `qemu+unix:///system?socket=${this.privatePath('/run/libvirt')}/libvirt-sock`;
  }

  /** Arguments for virsh to talk to this daemon: `virsh ...daemon.virshArguments, 'list'`. */
  get virshArguments(): string[] {
    return ['-c', this.uri];
  }

  /** The daemon's own directory that stands for `systemPath` (one of /run/libvirt, /var/lib/libvirt, ...) inside its namespace. */
  privatePath(systemPath: (typeof privateDirectories)[number]): string {
    return path.join(this.directory, systemPath.replaceAll('/', '_').slice(1));
  }

  async start(): Promise<void> {
    const problem = await qemuTierProblem();
    if (problem) throw new Error(`cannot start a QEMU daemon: ${problem}`);
    for (const directory of [...privateDirectories.map((system) => this.privatePath(system)), sharedCapabilityCache]) await mkdir(directory, { recursive: true });
    const etc = this.privatePath('/etc/libvirt');
    const run = this.privatePath('/run/libvirt');
    await writeFile(
      path.join(etc, 'libvirtd.conf'),
      [`unix_sock_dir = "${run}"`, 'unix_sock_rw_perms = "0700"', 'auth_unix_rw = "none"', 'auth_unix_ro = "none"', `host_uuid = "${this.hostUuid}"`, 'keepalive_interval = 5', ''].join('\n'),
    );
    this.displayPorts ??= await leaseDisplayPorts();
    await writeFile(
      path.join(etc, 'qemu.conf'),
      [
        'user = "root"',
        'group = "root"',
        'dynamic_ownership = 0',
        'security_driver = "none"',
        'stdio_handler = "file"',
        ...portRanges(this.displayPorts.min),
        ...(this.options.qemuConf ?? []),
        '',
      ].join('\n'),
    );
    await writeFile(path.join(etc, 'libvirt.conf'), '');
    const binds = [
      ...privateDirectories.map((system) => `mkdir -p ${system} && mount --bind ${this.privatePath(system)} ${system}`),
      `mkdir -p /var/cache/libvirt && mount --bind ${sharedCapabilityCache} /var/cache/libvirt`,
    ];
    const script = ['set -e', 'mount --make-rprivate /', ...binds, `exec /usr/sbin/libvirtd --config ${etc}/libvirtd.conf --pid-file ${this.directory}/libvirtd.pid`].join('\n');
    this.output.length = 0;
    const daemon = spawn('/usr/bin/unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', script], { cwd: this.directory, stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = daemon;
    const capture = (chunk: Buffer) => this.output.push(chunk.toString());
    daemon.stdout!.on('data', capture);
    daemon.stderr!.on('data', capture);
    this.keeper = await eventually(
      async () => {
        if (daemon.exitCode !== null) throw new Error(`libvirtd exited (${daemon.exitCode}): ${this.output.join('')}`);
        const connection = new Hypervisor({ uri: this.uri });
        await connection.connectOpen();
        return connection;
      },
      'the QEMU libvirtd to accept connections',
      60_000,
    ).catch(async (error: unknown) => {
      await this.stopDaemonOnly('SIGKILL');
      throw error;
    });
  }

  /** A connection to the daemon, for checking what the hypervisor says. */
  get hypervisor(): Hypervisor {
    if (!this.keeper) throw new Error('the daemon is not running');
    return this.keeper;
  }

  /** Runs virsh against this daemon and resolves with what it printed; rejects with its error output when it fails. */
  virsh(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn('/usr/bin/virsh', [...this.virshArguments, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`virsh ${args.join(' ')} failed (${code}): ${err.trim()}`))));
    });
  }

  /**
   * Stops libvirtd alone, leaving its guests running (as a libvirtd restart
   * or crash does on a real host); `start()` brings it back, and it finds the
   * guests again.
   */
  async stopDaemonOnly(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.keeper?.connectClose().catch(() => undefined);
    this.keeper = undefined;
    const daemon = this.process;
    if (!daemon || daemon.exitCode !== null || daemon.signalCode !== null) return;
    const exited = new Promise((resolve) => daemon.once('exit', resolve));
    daemon.kill(signal);
    await exited;
  }

  /**
   * Kills the QEMU processes of guests that outlived this daemon (it was
   * stopped with stopDaemonOnly and not started again): each by the pid its
   * pid file names, and only while that process is still the guest's QEMU.
   */
  private async killOrphanedGuests(): Promise<void> {
    const directory = path.join(this.privatePath('/run/libvirt'), 'qemu');
    for (const file of (await readdir(directory).catch(() => [] as string[])).filter((name) => name.endsWith('.pid'))) {
      const pid = Number((await readFile(path.join(directory, file), 'utf8').catch(() => '')).trim());
      const commandLine = Number.isSafeInteger(pid) && pid > 0 ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
      if (commandLine.includes(`guest=${file.slice(0, -'.pid'.length)},`)) process.kill(pid, 'SIGKILL');
    }
  }

  /**
   * Destroys every running guest (also those of a daemon stopped with
   * stopDaemonOnly), then every active network (their bridges are in the
   * machine's one network namespace, shared by every daemon), then stops the
   * daemon and gives its ports back.
   */
  async stop(): Promise<void> {
    if (this.keeper) {
      const names = (await this.virsh('list', '--name').catch(() => '')).split('\n').map((line) => line.trim()).filter(Boolean);
      for (const name of names) await this.virsh('destroy', name).catch(() => undefined);
      const networks = (await this.virsh('net-list', '--name').catch(() => '')).split('\n').map((line) => line.trim()).filter(Boolean);
      for (const network of networks) await this.virsh('net-destroy', network).catch(() => undefined);
    }
    await this.stopDaemonOnly();
    await this.killOrphanedGuests();
    if (this.displayPorts) await rm(this.displayPorts.file, { force: true });
    this.displayPorts = undefined;
  }
}
