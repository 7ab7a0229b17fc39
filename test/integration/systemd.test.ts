import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { temporaryDirectory } from '../support/temporary-directory.js';

/** The repository root: this file runs as dist/test/integration/systemd.test.js. */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const units = ['drover-controller.service', 'drover-agent.service'];

test('the systemd units pass systemd-analyze verify without a word', async (t) => {
  const directory = await temporaryDirectory('systemd');
  t.teardown(() => directory.remove());
  const copies: string[] = [];
  for (const unit of units) {
    const text = await readFile(path.join(repoRoot, 'systemd', unit), 'utf8');
    t.true(text.includes('ExecStart=/usr/bin/node '), `${unit} starts /usr/bin/node`);
    const copy = path.join(directory.path, unit);
    // The test machine's node may live elsewhere; verify checks that the executable exists.
    await writeFile(copy, text.replaceAll('ExecStart=/usr/bin/node ', `ExecStart=${process.execPath} `));
    copies.push(copy);
  }
  const result = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile('systemd-analyze', ['verify', ...copies], { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: `${stdout}${stderr}` });
    });
  });
  t.is(result.code, 0, result.output);
  t.is(result.output, '', 'no warnings');
});
