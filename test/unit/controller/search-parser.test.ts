import test from 'ava';
import { checkFields, fieldsOf, parseSearch, SearchError, type Comparison, type Condition } from '../../../controller/query/search.js';

const cmp = (field: string, op: Comparison, value: string, position: number, wildcard = false): Condition => ({ kind: 'compare', field, op, value, wildcard, position });
const and = (left: Condition, right: Condition): Condition => ({ kind: 'and', left, right });
const or = (left: Condition, right: Condition): Condition => ({ kind: 'or', left, right });
const where = (input: string) => parseSearch(input).where;

function failure(input: string, options?: Parameters<typeof parseSearch>[1]): string {
  try {
    parseSearch(input, options);
  } catch (error) {
    if (error instanceof SearchError) {
      if (!error.message.startsWith(`at ${error.position}: `)) throw new Error(`message does not start with its position: ${error.message}`);
      return error.message;
    }
    throw error;
  }
  throw new Error(`"${input}" parsed`);
}

test('an empty or blank search has no condition, no sort order and no page', (t) => {
  t.deepEqual(parseSearch(''), { sortBy: [] });
  t.deepEqual(parseSearch('  \t\n '), { sortBy: [] });
});

test('and binds tighter than or, and parentheses override it', (t) => {
  t.deepEqual(where('a=1 or b=2 and c=3'), or(cmp('a', '=', '1', 0), and(cmp('b', '=', '2', 7), cmp('c', '=', '3', 15))));
  t.deepEqual(where('a=1 and b=2 or c=3'), or(and(cmp('a', '=', '1', 0), cmp('b', '=', '2', 8)), cmp('c', '=', '3', 15)));
  t.deepEqual(where('(a=1 or b=2) and c=3'), and(or(cmp('a', '=', '1', 1), cmp('b', '=', '2', 8)), cmp('c', '=', '3', 17)));
  t.deepEqual(where(' ( ( a=1 ) ) '), cmp('a', '=', '1', 5));
});

test('juxtaposed conditions are joined with and', (t) => {
  t.deepEqual(where('name=a status=up'), and(cmp('name', '=', 'a', 0), cmp('status', '=', 'up', 7)));
  t.deepEqual(where('name=a (status=up or status=down)'), and(cmp('name', '=', 'a', 0), or(cmp('status', '=', 'up', 8), cmp('status', '=', 'down', 21))));
});

test('runs of one operator are left-associative and balanced', (t) => {
  t.deepEqual(where('a=1 and b=2 and c=3'), and(and(cmp('a', '=', '1', 0), cmp('b', '=', '2', 8)), cmp('c', '=', '3', 16)));
  t.deepEqual(where('a=1 or b=2 or c=3 or d=4'), or(or(cmp('a', '=', '1', 0), cmp('b', '=', '2', 7)), or(cmp('c', '=', '3', 14), cmp('d', '=', '4', 21))));
  const depth = (c: Condition): number => (c.kind === 'compare' ? 0 : 1 + Math.max(depth(c.left), depth(c.right)));
  const many = Array.from({ length: 256 }, (_, i) => `f${i}=${i}`).join(' and ');
  t.is(depth(where(many)!), 8);
  t.deepEqual(fieldsOf(parseSearch(many)), Array.from({ length: 256 }, (_, i) => `f${i}`));
});

test('all six operators, with or without spaces around them', (t) => {
  for (const op of ['=', '!=', '<', '>', '<=', '>='] as const) {
    t.deepEqual(where(`memory${op}1024`), cmp('memory', op, '1024', 0));
    t.deepEqual(where(`  memory ${op}  1024 `), cmp('memory', op, '1024', 2));
  }
  t.deepEqual(where('a==b'), cmp('a', '=', '=b', 0), 'the value starts after the longest operator');
});

test('bare and quoted values', (t) => {
  t.deepEqual(where('name="my vm"'), cmp('name', '=', 'my vm', 0));
  t.deepEqual(where('name=""'), cmp('name', '=', '', 0));
  t.deepEqual(where('name="say \\"hi\\" \\\\ \\*"'), cmp('name', '=', 'say "hi" \\ *', 0));
  t.deepEqual(where('name="(and or)"'), cmp('name', '=', '(and or)', 0));
  t.deepEqual(where('time>2024-01-02T03:04:05Z'), cmp('time', '>', '2024-01-02T03:04:05Z', 0));
  t.deepEqual(where('name=or'), cmp('name', '=', 'or', 0), 'keywords are plain values after an operator');
  t.deepEqual(where('name=a\\b'), cmp('name', '=', 'a\\b', 0), 'a backslash in a bare word is literal');
  t.deepEqual(where('(name=ä😀)'), cmp('name', '=', 'ä😀', 1));
  t.deepEqual(where('cluster.name=c1 cpu.topology.cores>=2'), and(cmp('cluster.name', '=', 'c1', 0), cmp('cpu.topology.cores', '>=', '2', 16)));
  t.deepEqual(where('Name=VM1'), cmp('name', '=', 'VM1', 0), 'fields are lower-cased, values kept');
});

test('wildcards: unescaped stars are wildcards, escaped ones are literal', (t) => {
  t.deepEqual(where('name=web*'), cmp('name', '=', 'web*', 0, true));
  t.deepEqual(where('name!=*'), cmp('name', '!=', '*', 0, true));
  t.deepEqual(where('name="a b*"'), cmp('name', '=', 'a b*', 0, true));
  t.deepEqual(where('name="a\\*b"'), cmp('name', '=', 'a*b', 0), 'only escaped stars: a literal value');
  t.deepEqual(where('name="a\\**"'), cmp('name', '=', 'a\\**', 0, true), 'a pattern keeps the escape of a literal star');
  t.deepEqual(where('name="\\\\x*"'), cmp('name', '=', '\\\\x*', 0, true));
  t.deepEqual(where('name=a\\b*'), cmp('name', '=', 'a\\\\b*', 0, true), "a bare word's backslash is escaped in its pattern");
  t.deepEqual(where('name<"a\\*"'), cmp('name', '<', 'a*', 0), 'a literal star is fine with ordering');
});

test('sortby with several items and directions, and page', (t) => {
  t.deepEqual(parseSearch('status=up sortby name, memory desc ,cluster.name asc page 3'), {
    where: cmp('status', '=', 'up', 0),
    sortBy: [
      { field: 'name', direction: 'asc', position: 17 },
      { field: 'memory', direction: 'desc', position: 23 },
      { field: 'cluster.name', direction: 'asc', position: 36 },
    ],
    page: 3,
  });
  t.deepEqual(parseSearch('sortby name'), { sortBy: [{ field: 'name', direction: 'asc', position: 7 }] });
  t.deepEqual(parseSearch('page 12'), { sortBy: [], page: 12 });
});

test('keywords are case-insensitive', (t) => {
  t.deepEqual(parseSearch('a=1 AND b=2 Or c=3 SortBy a DESC PAGE 2'), {
    where: or(and(cmp('a', '=', '1', 0), cmp('b', '=', '2', 8)), cmp('c', '=', '3', 15)),
    sortBy: [{ field: 'a', direction: 'desc', position: 26 }],
    page: 2,
  });
});

test('a word followed by an operator is a field even if it looks like a keyword', (t) => {
  t.deepEqual(where('page=3'), cmp('page', '=', '3', 0));
  t.deepEqual(where('a=1 page = 3'), and(cmp('a', '=', '1', 0), cmp('page', '=', '3', 4)));
  t.deepEqual(where('sortby=x or=y and and=z'), and(and(cmp('sortby', '=', 'x', 0), cmp('or', '=', 'y', 9)), cmp('and', '=', 'z', 18)));
  t.deepEqual(parseSearch('sortby page, asc desc page 1'), {
    sortBy: [
      { field: 'page', direction: 'asc', position: 7 },
      { field: 'asc', direction: 'desc', position: 13 },
    ],
    page: 1,
  });
  t.deepEqual(where('pager=1 ordinal=2'), and(cmp('pager', '=', '1', 0), cmp('ordinal', '=', '2', 8)));
});

test('errors say where, what was expected and what was found', (t) => {
  t.is(failure('name=a and memory>'), 'at 18: expected a value after "memory>"');
  t.is(failure('memory> )'), 'at 8: expected a value after "memory>", found ")"');
  t.is(failure('name'), 'at 4: expected an operator (=, !=, <, >, <=, >=) after "name"');
  t.is(failure('name ~ x'), 'at 5: expected an operator (=, !=, <, >, <=, >=) after "name", found "~"');
  t.is(failure('name!x'), 'at 4: expected an operator (=, !=, <, >, <=, >=) after "name", found "!x"');
  t.is(failure('=3'), 'at 0: expected a field name or "(", found "=3"');
  t.is(failure('a=1 and'), 'at 7: expected a field name or "("');
  t.is(failure('a=1 or or b=2'), 'at 7: expected a field name or "(", found "or"');
  t.is(failure('(a=1 or (b=2)'), 'at 13: expected ")" to close the "(" at 0');
  t.is(failure('(a=1 b=2 sortby x'), 'at 9: expected ")" to close the "(" at 0, found "sortby"');
  t.is(failure('a=1)'), 'at 3: found ")" without a matching "("');
  t.is(failure('()'), 'at 1: expected a field name or "(", found ")"');
  t.is(failure('a=1 "b"'), 'at 4: expected "and", "or", another condition, "sortby", "page" or the end of the search, found ""b""');
  t.is(failure('a=1 sortby'), 'at 10: expected a field name to sort by');
  t.is(failure('sortby a b'), 'at 9: expected ",", "page" or the end of the search after the sort order, found "b"');
  t.is(failure('sortby a, 1'), 'at 10: expected a field name to sort by, found "1"');
  t.is(failure('page 2 a=1'), 'at 7: expected the end of the search, found "a=1"');
  t.is(failure('page 2 sortby a'), 'at 7: expected the end of the search, found "sortby"');
  t.is(failure('page 0'), 'at 5: expected a whole number of 1 or more after "page", found "0"');
  t.is(failure('a=1 page x'), 'at 9: expected a whole number of 1 or more after "page", found "x"');
  t.is(failure('page -1'), 'at 5: expected a whole number of 1 or more after "page", found "-1"');
  t.is(failure('page 1.5'), 'at 5: expected a whole number of 1 or more after "page", found "1.5"');
  t.is(failure('page'), 'at 4: expected a whole number of 1 or more after "page"');
  t.is(failure('page 99999999999999999999'), 'at 5: expected a whole number of 1 or more after "page", found "99999999999999999999"');
  t.is(failure('a=1 memory<1*'), 'at 11: a wildcard "*" can only be used with = or !=, not in "memory<1*"');
  t.is(failure('name>="*"'), 'at 6: a wildcard "*" can only be used with = or !=, not in "name>="*""');
  t.is(failure('name="abc'), 'at 5: the quoted value after "name=" has no closing quote');
  t.is(failure('name="abc\\'), 'at 5: the quoted value after "name=" has no closing quote');
  t.is(failure('name="a\\nb"'), 'at 7: expected \\", \\\\ or \\* after a backslash in a quoted value, found "\\n"');
  t.is(failure('name="a"b=1'), 'at 8: expected a space or ")" after the quoted value, found "b=1"');
  t.is(failure('nåme=1'), 'at 1: expected an operator (=, !=, <, >, <=, >=) after "n", found "åme=1"');
  t.is(failure(`${'a'.repeat(30)} x`), 'at 31: expected an operator (=, !=, <, >, <=, >=) after "aaaaaaaaaaaaaaaaaaaaaaaa…", found "x"');
});

test('limits on length, number of conditions and nesting', (t) => {
  const long = `name=${'x'.repeat(4091)}`;
  t.is(parseSearch(long).where?.kind, 'compare');
  t.is(failure(`${long}y`), 'at 4096: expected a search of at most 4096 characters, found 4097');
  t.is(failure('a=1 b=2', { maxLength: 5 }), 'at 5: expected a search of at most 5 characters, found 7');
  const conditions = (n: number) => Array.from({ length: n }, (_, i) => `f=${i}`).join(' or ');
  t.truthy(parseSearch(conditions(256)).where);
  t.is(failure(conditions(257)), `at ${conditions(256).length + 4}: the search has more than 256 conditions`);
  t.is(failure('a=1 b=2 c=3', { maxConditions: 2 }), 'at 8: the search has more than 2 conditions');
  t.truthy(parseSearch(`${'('.repeat(64)}a=1${')'.repeat(64)}`).where);
  t.is(failure(`${'('.repeat(65)}a=1${')'.repeat(65)}`), 'at 64: parentheses are nested more than 64 levels deep');
});

test('checkFields accepts known fields in any case and names the first unknown one', (t) => {
  const known = ['name', 'status', 'Memory', 'cluster.name'];
  t.notThrows(() => checkFields(parseSearch('NAME=a MEMORY>1 sortby cluster.NAME desc'), known));
  t.notThrows(() => checkFields(parseSearch(''), known));
  const error = t.throws(() => checkFields(parseSearch('name=a (colour=red or size=2) sortby flavour'), known), { instanceOf: SearchError });
  t.is(error?.position, 8);
  t.is(error?.message, 'at 8: unknown field "colour"; the valid fields are: Memory, cluster.name, name, status');
  t.is(t.throws(() => checkFields(parseSearch('name=a sortby flavour'), known))?.message, 'at 14: unknown field "flavour"; the valid fields are: Memory, cluster.name, name, status');
  t.deepEqual(fieldsOf(parseSearch('name=a (Status=up or name=b) sortby memory, name')), ['name', 'status', 'memory']);
});

test('random inputs either parse or fail with a SearchError, quickly', (t) => {
  let seed = 0x5eed;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const pieces = ['(', ')', '"', '\\', '*', '=', '!=', '<', '>', '<=', '>=', '!', ',', ' ', '  ', '\t', '\n', 'and', 'OR', 'sortby', 'page', 'asc', 'Desc', 'not', 'name', 'cluster.name', '_x', 'a', '1', '0', '-3', '2.5', 'é', '😀', '\u0000', '\u200b', '\ud800', 'x*y', '\\*', '\\"'];
  const pick = () => pieces[Math.floor(random() * pieces.length)]!;
  // The best of three runs, so that a garbage collection or a busy machine does not count as a slow parse.
  const timeOf = (input: string) => {
    let best = Infinity;
    for (let run = 0; run < 3 && best >= 10; run++) {
      const started = performance.now();
      try {
        parseSearch(input);
      } catch {
        // judged below
      }
      best = Math.min(best, performance.now() - started);
    }
    return best;
  };
  let parsed = 0;
  let slowest = 0;
  for (let i = 0; i < 4000; i++) {
    const input = Array.from({ length: Math.floor(random() * 40) }, pick).join('');
    slowest = Math.max(slowest, timeOf(input));
    try {
      const query = parseSearch(input);
      parsed++;
      const stack = query.where ? [query.where] : [];
      for (let c = stack.pop(); c; c = stack.pop()) {
        if (c.kind === 'compare') t.is(input.slice(c.position, c.position + c.field.length).toLowerCase(), c.field);
        else stack.push(c.left, c.right);
      }
    } catch (error) {
      if (!(error instanceof SearchError)) t.fail(`${JSON.stringify(input)} threw ${String(error)}`);
      else t.true(error.position >= 0 && error.position <= input.length, JSON.stringify(input));
    }
  }
  for (const input of ['('.repeat(4096), ')'.repeat(4096), '"'.repeat(4096), 'a=1 '.repeat(1024), 'a=b'.repeat(1365), '\\'.repeat(4096), `a="${'\\*'.repeat(2000)}"`]) {
    slowest = Math.max(slowest, timeOf(input));
    try {
      parseSearch(input);
    } catch (error) {
      t.true(error instanceof SearchError, String(error));
    }
  }
  t.true(parsed > 50, `only ${parsed} random inputs parsed`);
  t.true(slowest < 50, `slowest parse took ${slowest} ms`);
});
