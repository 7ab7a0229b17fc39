import test from 'ava';
import { parseSearch } from '../../../controller/query/search.js';
import { compareForSort, matches, type FieldValue, type MatchOptions } from '../../../controller/query/search-reference.js';

const types: MatchOptions['types'] = { memory: 'number', stateless: 'boolean' };
const insensitive: MatchOptions = { caseSensitive: false, types };
const sensitive: MatchOptions = { caseSensitive: true, types };
const vm: Record<string, FieldValue> = { name: 'Web-01', description: 'a*b\\c', memory: 2048, stateless: false, host: null, version: '10' };

function check(search: string, record = vm, options = insensitive): boolean {
  return matches(parseSearch(search).where!, record, options);
}

test('text equality, with wildcards and case sensitivity', (t) => {
  t.true(check('name=web-01'));
  t.false(check('name=web-01', vm, sensitive));
  t.true(check('name=Web-01', vm, sensitive));
  t.true(check('name=web*'));
  t.true(check('name=*01'));
  t.true(check('name=*'));
  t.true(check('name=w*b*0*1*'));
  t.true(check('name=Web-01*'), 'a star also matches nothing');
  t.false(check('name=web'), 'equality is on the whole value');
  t.false(check('name=web*', vm, sensitive));
  t.true(check('name!=db*'));
  t.false(check('name!=web*'));
  t.true(check('description="a\\*b\\\\c"'), 'escaped star and backslash are literal');
  t.true(check('description="a\\**"'));
  t.false(check('description="a\\*x*"'));
  t.false(check('name="W\\*"'), 'a literal star only matches a star');
});

test('text ordering is by code point; number ordering is numeric', (t) => {
  t.true(check('version<9'), 'as text, "10" sorts before "9"');
  t.true(check('memory>999'), 'as a number, 2048 is more than 999');
  t.true(check('memory>=2048') && check('memory<=2048.0') && !check('memory<2048'));
  t.true(check('memory=2048.0'));
  t.true(check('memory>-1'));
  t.true(check('name>WEB', vm, sensitive) && check('name<web', vm, sensitive), 'upper case sorts before lower case');
  t.true(check('name>web-00') && check('name<WEB-02'), 'case-insensitively, the case does not matter');
  t.true(check('name<\uff5e', { name: '\u{1f600}' }, sensitive) === false, 'an astral character sorts after U+FF5E');
  t.throws(() => check('memory=2*'), { message: /wildcard/ });
  t.throws(() => check('memory=lots'), { message: /not a number/ });
});

test('booleans compare with = and != only, in any case', (t) => {
  t.true(check('stateless=false'));
  t.true(check('stateless=FALSE'));
  t.true(check('stateless!=true'));
  t.false(check('stateless=true'));
  t.throws(() => check('stateless>false'));
  t.throws(() => check('stateless=yes'));
});

test('a null value equals nothing, is unequal to everything and is not ordered', (t) => {
  t.false(check('host=h1'));
  t.true(check('host!=h1'), 'a VM without a host is not on h1');
  t.false(check('host=*'));
  t.true(check('host!=*'));
  t.false(check('host<zzz'));
  t.false(check('host>=a'));
  t.false(check('missing=x'), 'a missing field is null');
  t.true(check('memory!=1', { memory: null }));
});

test('and and or combine conditions', (t) => {
  t.true(check('name=web* memory>1024'));
  t.false(check('name=web* and memory>4096'));
  t.true(check('name=db* or memory>1024'));
  t.false(check('name=db* or host=h1 and memory>1'));
  t.true(check('(name=db* or host!=h1) and stateless=false'));
});

test('compareForSort puts nulls last in ascending order', (t) => {
  const sortedText = (values: FieldValue[], caseSensitive: boolean) => [...values].sort((a, b) => compareForSort(a, b, 'text', caseSensitive));
  t.deepEqual(sortedText([null, 'b', 'A', 'a', null, 'B'], true), ['A', 'B', 'a', 'b', null, null]);
  t.deepEqual(sortedText(['b', null, 'A', 'c'], false), ['A', 'b', 'c', null]);
  t.is(compareForSort('A', 'a', 'text', false), 0);
  t.deepEqual([10, null, 9, -1.5].sort((a, b) => compareForSort(a, b, 'number', true)), [-1.5, 9, 10, null]);
  t.deepEqual([true, null, false].sort((a, b) => compareForSort(a, b, 'boolean', true)), [false, true, null]);
});
