import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The root of the repository, from a compiled file under dist/test/support. */
export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The repository-relative paths of the TypeScript files below a folder of the repository. */
export function sourceFiles(directory: string): string[] {
  return readdirSync(path.join(repositoryRoot, directory)).flatMap((name) => {
    const relative = path.posix.join(directory, name);
    if (statSync(path.join(repositoryRoot, relative)).isDirectory()) return sourceFiles(relative);
    return relative.endsWith('.ts') ? [relative] : [];
  });
}
