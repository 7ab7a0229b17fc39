import { execFile } from 'node:child_process';
import { stat, statfs } from 'node:fs/promises';
import { promisify } from 'node:util';
import { DriverError } from '../driver.js';
import { qcow2Compat } from './resource-xml.js';

const run = promisify(execFile);
const qemuImgTimeoutMs = 10 * 60_000;

export interface ImageFacts {
  format: string;
  virtualSizeBytes: number;
  backingFile?: string;
  /** The qcow2 version of a qcow2 image ("0.10" or "1.1"). */
  compat?: string;
}

async function qemuImg(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('qemu-img', args, { timeout: qemuImgTimeoutMs, maxBuffer: 1024 * 1024 });
    return stdout;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') throw new DriverError('hypervisor_failure', 'qemu-img is not installed on the host (Debian package qemu-utils)');
    throw new DriverError('hypervisor_failure', `qemu-img ${args[0]} failed: ${(failure.stderr ?? failure.message).trim()}`);
  }
}

function formatOptions(format: 'qcow2' | 'raw'): string[] {
  return format === 'qcow2' ? [`compat=${qcow2Compat}`] : [];
}

/**
 * Writes volume files with qemu-img, for volumes libvirt only records (the
 * test driver keeps its volumes in memory and writes no file).
 */
export const volumeFiles = {
  async create(file: string, options: { format: 'qcow2' | 'raw'; capacityBytes: number; sparse: boolean; backing?: { path: string; format: string } }): Promise<void> {
    const args = ['create', '-q', '-f', options.format];
    if (options.backing) args.push('-b', options.backing.path, '-F', options.backing.format);
    const creationOptions = [...formatOptions(options.format), ...(options.sparse ? [] : ['preallocation=falloc'])];
    if (creationOptions.length) args.push('-o', creationOptions.join(','));
    await qemuImg([...args, file, String(options.capacityBytes)]);
  },

  async copy(source: { path: string; format: string }, file: string, options: { format: 'qcow2' | 'raw'; sparse: boolean }): Promise<void> {
    const conversionOptions = formatOptions(options.format);
    await qemuImg(['convert', '-q', '-f', source.format, '-O', options.format, ...(conversionOptions.length ? ['-o', conversionOptions.join(',')] : []), ...(options.sparse ? [] : ['-S', '0']), source.path, file]);
  },

  async info(file: string): Promise<ImageFacts> {
    const facts = JSON.parse(await qemuImg(['info', '--output=json', '-U', file])) as {
      format: string;
      'virtual-size': number;
      'backing-filename'?: string;
      'format-specific'?: { type: string; data?: { compat?: string } };
    };
    return { format: facts.format, virtualSizeBytes: facts['virtual-size'], backingFile: facts['backing-filename'], compat: facts['format-specific']?.data?.compat };
  },

  /**
   * Whether a process (a QEMU of this host, or of another host over shared
   * storage that carries locks) holds the image's lock, as qemu-img finds
   * when it opens the image without sharing it. Another failure to open it
   * says nothing of its users: false.
   */
  async locked(file: string): Promise<boolean> {
    return qemuImg(['info', '--output=json', file]).then(
      () => false,
      (error: unknown) => /lock/i.test((error as Error).message),
    );
  },

  /** The space a file takes on its file system. */
  async actualSize(file: string): Promise<number> {
    return (await stat(file)).blocks * 512;
  },

  async exists(file: string): Promise<boolean> {
    return stat(file).then(
      () => true,
      () => false,
    );
  },

  /** The free and used space of the file system a directory is on. */
  async space(directory: string): Promise<{ availableBytes: number; usedBytes: number }> {
    const fs = await statfs(directory);
    return { availableBytes: fs.bavail * fs.bsize, usedBytes: (fs.blocks - fs.bfree) * fs.bsize };
  },
};
