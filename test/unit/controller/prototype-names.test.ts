import test from 'ava';
import { readFileSync } from 'node:fs';
import { repositoryRoot, sourceFiles } from '../../support/source-files.js';
import path from 'node:path';
import type { Dialect } from '../../../controller/db/dialect.js';
import { resources, type ResourceName } from '../../../controller/query/catalog.js';
import { compileFilters, compileSearch } from '../../../controller/query/compile.js';
import { parseFollow } from '../../../controller/query/queries.js';
import { parseSearch } from '../../../controller/query/search.js';
import { ServiceError } from '../../../controller/rules/errors.js';

/** Names every plain object answers through its prototype. */
const prototypeNames = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];

const dialect = { codePointOrder: '', nullsLast: () => '' } as unknown as Dialect;
const options = { caseSensitive: false, dialect };

function refusal(work: () => unknown): ServiceError {
  try {
    work();
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

const resourceNames = Object.keys(resources) as ResourceName[];

test('a follow path through a prototype name is refused with a 400 naming it, at any level', (t) => {
  for (const resource of resourceNames) {
    const firstLink = [...resources[resource].links.keys()][0];
    for (const name of prototypeNames) {
      const paths = [name, ...(firstLink ? [`${firstLink}.${name}`] : [])];
      for (const followPath of paths) {
        const error = refusal(() => parseFollow(resource, followPath));
        t.is(error.kind, 'invalid', `${resource}: follow=${followPath}`);
        t.true(error.detail.includes(`no link "${name}"`), `${resource}: follow=${followPath}: ${error.detail}`);
      }
    }
  }
});

test('an attribute filter, a search field or a sort field that is a prototype name is refused with a 400 naming it', (t) => {
  for (const resource of resourceNames) {
    const definition = resources[resource];
    for (const name of prototypeNames) {
      const filter = refusal(() => compileFilters(definition, new Map([[name, 'x']]), options));
      t.is(filter.kind, 'invalid');
      t.true(filter.detail.includes(`query parameter ${name} is neither`), filter.detail);
      for (const search of [`${name}=x`, `sortby ${name}`]) {
        const error = refusal(() => compileSearch(definition, parseSearch(search), options));
        t.is(error.kind, 'invalid', `${resource}: ${search}`);
        t.true(error.detail.toLowerCase().includes(`unknown field "${name.toLowerCase()}"`), `${resource}: ${search}: ${error.detail}`);
      }
    }
  }
});

test('the names of fields and links are the tables own names, with nothing from a prototype', (t) => {
  for (const resource of resourceNames) {
    for (const name of prototypeNames) {
      t.false(resources[resource].fields.has(name), `${resource} has no field ${name}`);
      t.false(resources[resource].links.has(name), `${resource} has no link ${name}`);
    }
  }
});


test('query parameters are read only through the accessors of input/request.ts, which look among the own names', (t) => {
  const readers = sourceFiles('controller/api').filter((file) => file !== 'controller/api/input/request.ts' && /\bctx\.(request\.)?query\b/.test(readFileSync(path.join(repositoryRoot, file), 'utf8')));
  t.deepEqual(readers, [], 'files that read ctx.query themselves');
  t.true(readFileSync(path.join(repositoryRoot, 'controller/api/input/request.ts'), 'utf8').includes('Object.hasOwn(query, name)'));
});
