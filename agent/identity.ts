import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Returns the host id kept in `<dataDir>/host-id`, creating it on first use. */
export async function loadHostId(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'host-id');
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (uuidPattern.test(stored)) return stored.toLowerCase();
    throw new Error(`${file} does not hold a UUID`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const hostId = randomUUID();
  try {
    await writeFile(file, `${hostId}\n`, { flag: 'wx' });
    return hostId;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadHostId(dataDir);
    throw error;
  }
}
