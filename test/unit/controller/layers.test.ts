import test from 'ava';
import { readFileSync } from 'node:fs';
import { repositoryRoot, sourceFiles } from '../../support/source-files.js';
import path from 'node:path';
import ts from 'typescript';

/**
 * The controller's layers, lowest first. A file may import from its own
 * layer and the layers below it, and from `shared/`; never from a layer
 * above. Within `controller/`, every file belongs to exactly one layer.
 */
const layers = [
  { name: 'rules', paths: ['controller/rules/'], what: 'pure rules: no I/O, no state' },
  { name: 'pki', paths: ['controller/pki/'], what: 'the certificate authority: keys and certificates on disk' },
  { name: 'db', paths: ['controller/db/'], what: 'entities, migrations and the SQL gateway' },
  { name: 'state', paths: ['controller/state/'], what: 'the one owner of live VM and host state' },
  { name: 'agents', paths: ['controller/agents/'], what: 'command routing to agent sessions' },
  { name: 'tasks', paths: ['controller/tasks/'], what: 'the task engine and every runner' },
  { name: 'services', paths: ['controller/services/'], what: 'domain operations that submit tasks' },
  { name: 'query', paths: ['controller/query/'], what: 'search, collections and link following' },
  { name: 'adapters', paths: ['controller/api/', 'controller/gateway/'], what: 'HTTP and gRPC adapters' },
  { name: 'root', paths: ['controller/controller.ts', 'controller/main.ts', 'controller/config.ts', 'controller/cli.ts', 'controller/cli/'], what: 'the composition root and the drover command-line tool' },
] as const;


function layerOf(file: string): number {
  const index = layers.findIndex((layer) => layer.paths.some((prefix) => (prefix.endsWith('/') ? file.startsWith(prefix) : file === prefix)));
  return index;
}

/** The repository-relative .ts files a source file imports, statically or dynamically (type-only imports included). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(path.join(repositoryRoot, file), 'utf8'), true, true);
  return info.importedFiles
    .map((imported) => imported.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).replace(/\.js$/, '.ts'));
}

const controllerFiles = sourceFiles('controller');

test('every controller file belongs to one layer', (t) => {
  const unplaced = controllerFiles.filter((file) => layerOf(file) < 0);
  t.deepEqual(unplaced, [], 'files outside every layer');
  t.true(controllerFiles.length > 50, 'the walk found the controller');
});

test('controller imports point down the layers: rules, pki, db, state, agents, tasks, services, query, adapters, root', (t) => {
  const upward: string[] = [];
  let checked = 0;
  for (const file of controllerFiles) {
    const from = layerOf(file);
    for (const target of importsOf(file)) {
      checked++;
      if (target.startsWith('shared/')) continue;
      if (!target.startsWith('controller/')) {
        upward.push(`${file} imports ${target}, outside controller/ and shared/`);
        continue;
      }
      const to = layerOf(target);
      if (to > from) upward.push(`${file} (${layers[from]!.name}) imports ${target} (${layers[to]!.name})`);
    }
  }
  t.deepEqual(upward, []);
  t.true(checked > 200, 'imports were found');
});

test('proto types are used only by the gRPC adapter', (t) => {
  const users = controllerFiles.filter((file) => importsOf(file).some((target) => target.startsWith('shared/proto/')));
  t.deepEqual(users.filter((file) => !file.startsWith('controller/gateway/')), []);
  t.true(users.length > 0);
});

test('rules do no I/O: they import nothing but other rules and shared types', (t) => {
  const io: string[] = [];
  for (const file of controllerFiles.filter((candidate) => candidate.startsWith('controller/rules/'))) {
    const info = ts.preProcessFile(readFileSync(path.join(repositoryRoot, file), 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (fileName.startsWith('.')) continue;
      io.push(`${file} imports the package ${fileName}`);
    }
  }
  t.deepEqual(io, []);
});
