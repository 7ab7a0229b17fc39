import test from 'ava';
import type { Dialect } from '../../../controller/db/dialect.js';
import { resources, type ResourceName } from '../../../controller/query/catalog.js';
import { compileSearch } from '../../../controller/query/compile.js';
import { parseSearch } from '../../../controller/query/search.js';

const dialect = { codePointOrder: '', nullsLast: () => '' } as unknown as Dialect;
const options = { caseSensitive: false, dialect };
const resourceNames = Object.keys(resources) as ResourceName[];

test('every search field is named in lower case, as a search names it whatever case it is written in', (t) => {
  for (const resource of resourceNames) {
    for (const name of resources[resource].fields.keys()) {
      t.is(name, name.toLowerCase(), `${resource}: ${name}`);
      const written = name.toUpperCase();
      const condition = parseSearch(`${written}=x`).where;
      t.is(condition?.kind === 'compare' ? condition.field : undefined, name, `${resource}: ${written} is the field ${name}`);
    }
  }
});

test("every OBJECT.name spelling of a related field is the same field as the related field's own name", (t) => {
  let spellings = 0;
  for (const resource of resourceNames) {
    const { fields } = resources[resource];
    const bare = new Set([...fields].filter(([name, field]) => field.kind === 'related' && !name.includes('.')).map(([, field]) => field));
    for (const [name, field] of fields) {
      if (field.kind !== 'related' || !name.endsWith('.name')) continue;
      spellings++;
      t.true(bare.has(field), `${resource}: ${name} is one of its related fields under another name`);
    }
  }
  t.true(spellings > 30, `${spellings} spellings`);
});

test('the searches Ansible modules send compile for their collections, each value bound as a parameter', (t) => {
  const cases: [ResourceName, string, string[]][] = [
    ['template', 'name=Blank and datacenter=Default', ['Blank', 'Default']],
    ['template', 'vm.name=myvm', ['myvm']],
    ['data_center', 'Clusters.name="my cluster"', ['my cluster']],
    ['disk', 'Storage.name="data" and vm_names="myvm"', ['data', 'myvm']],
    ['vm', 'name="myvm" and cluster=Default', ['myvm', 'Default']],
  ];
  for (const [resource, search, values] of cases) {
    const { where } = compileSearch(resources[resource], parseSearch(search), options);
    t.deepEqual(where?.params, values, `${resource}: ${search}`);
    for (const value of values) t.false(where!.text.includes(value), `${resource}: ${search}: ${value} is not in the SQL text`);
  }
});
