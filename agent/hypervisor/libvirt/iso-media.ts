import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { IsoFileFacts, MediumFacts, StorageSpec } from '../../../shared/model.js';
import { isIsoFileName } from '../../../shared/iso-files.js';
import { DriverError } from '../driver.js';
import { isoDirectory, isoImageId, storageDirectory } from './designer.js';
import { volumeFiles } from './volume-files.js';

/**
 * The regular files of a storage domain's ISO directory whose names a VM spec
 * can carry, by name. A missing ISO directory holds nothing; a missing storage
 * directory is `storage_unreachable`.
 */
export async function listIsoFiles(storage: StorageSpec, mountRoot: string): Promise<IsoFileFacts[]> {
  const base = storageDirectory(storage, mountRoot);
  if (!(await volumeFiles.exists(base))) throw new DriverError('storage_unreachable', `the directory ${base} of storage domain ${storage.id} does not exist on this host`);
  const directory = isoDirectory(storage, mountRoot);
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const files = await Promise.all(
    entries
      .filter((entry) => entry.isFile() && isIsoFileName(entry.name))
      .map(async (entry) => ({ name: entry.name, sizeBytes: (await stat(path.join(directory, entry.name))).size })),
  );
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const isoPathPattern = new RegExp(`/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/images/${isoImageId}/([^/]+)$`, 'i');

/** What a drive holding the file at `file` (nothing when undefined) holds, in a storage domain's terms where the file is in one's ISO directory. */
export function mediumOf(file: string | undefined): MediumFacts {
  if (!file) return { storageId: '', name: '' };
  const match = isoPathPattern.exec(file);
  return match ? { storageId: match[1]!.toLowerCase(), name: match[2]! } : { storageId: '', name: file };
}
