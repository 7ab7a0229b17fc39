import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface TemporaryDirectory {
  path: string;
  /** Removes the directory and everything in it. */
  remove(): Promise<void>;
}

/** Creates a new directory named drover-PREFIX-XXXXXX in the system's temporary directory. */
export async function temporaryDirectory(prefix: string): Promise<TemporaryDirectory> {
  const directory = await mkdtemp(path.join(os.tmpdir(), `drover-${prefix}-`));
  return { path: directory, remove: () => rm(directory, { recursive: true, force: true }) };
}
