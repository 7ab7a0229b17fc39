import { readFile } from 'node:fs/promises';

/**
 * libvirt names its shared library libvirt.so.0.<major * 1000 + minor>.<micro>,
 * so libvirt.so.0.9000.0 is libvirt 9.0.0 and libvirt.so.0.10010.2 is 10.10.2.
 */
export function libvirtVersionFromMaps(maps: string): string {
  const match = /\/libvirt\.so\.0\.(\d+)\.(\d+)\s*$/m.exec(maps);
  if (!match) return '';
  const combined = Number(match[1]);
  return `${Math.floor(combined / 1000)}.${combined % 1000}.${Number(match[2])}`;
}

/** The version of the libvirt library loaded into this process, read without a connection; '' when none is loaded. */
export async function loadedLibvirtVersion(): Promise<string> {
  try {
    return libvirtVersionFromMaps(await readFile('/proc/self/maps', 'utf8'));
  } catch {
    return '';
  }
}
