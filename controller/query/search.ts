/**
 * The search language Drover accepts in `?search=`, as oVirt's REST API v4 spells it.
 *
 * A search is a condition, followed by an optional sort order and an optional page number:
 *
 * ```
 * query    := [expr] [ 'sortby' sortitem (',' sortitem)* ] [ 'page' INTEGER ]
 * sortitem := FIELD ['asc' | 'desc']
 * expr     := term ('or' term)*
 * term     := factor (['and'] factor)*        -- "name=a status=up" means "name=a and status=up"
 * factor   := '(' expr ')' | FIELD OP VALUE
 * FIELD    := [A-Za-z_][A-Za-z0-9_.]*          -- dots name related fields: cluster.name
 * OP       := '=' | '!=' | '<' | '>' | '<=' | '>='
 * VALUE    := '"' quoted text '"' | a bare word
 * ```
 *
 * Whitespace between tokens is free, and keywords (`and`, `or`, `sortby`, `asc`, `desc`, `page`) are
 * case-insensitive. `not` is not part of the language. `and` binds tighter than `or`. A word is a
 * keyword only where the grammar allows one and only when no operator follows it, so `page=3` and
 * `sortby=x` are ordinary conditions on fields named `page` and `sortby`.
 *
 * A bare word value is any non-empty run of characters other than whitespace, `(` and `)`; it is
 * taken literally (a backslash is just a backslash) and every `*` in it is a wildcard. A quoted value
 * may contain anything, may be empty, and knows three escapes: `\"` for a quote, `\\` for a
 * backslash and `\*` for a literal star; any other backslash is an error. An unescaped `*` in a
 * quoted value is a wildcard. A quoted value must be followed by whitespace, `)` or the end.
 *
 * The parser produces a {@link SearchQuery}. Field names are returned lower-cased, since fields are
 * case-insensitive. Values are kept as text: whether `memory>abc` makes sense is decided by whoever
 * compiles the query against a schema. A condition's `wildcard` is true when its value contains an
 * unescaped `*`, which is only allowed with `=` and `!=`. When `wildcard` is false, `value` is the
 * literal text to compare with. When `wildcard` is true, `value` is a pattern in which `*` matches
 * any run of characters (also an empty one), `\*` stands for a literal star and `\\` for a literal
 * backslash; no other character is special. A value of `*` alone matches every non-null value.
 *
 * A run of conditions joined by the same operator becomes a balanced binary tree whose leaves keep
 * their left-to-right order; for up to three operands this is the plain left-associative tree
 * (`a and b and c` is `(a and b) and c`), and for longer runs the depth stays logarithmic.
 * Parentheses always make their own subtree.
 *
 * Every problem is reported as a {@link SearchError} carrying the 0-based offset in the input where
 * it was found; its message starts with `at OFFSET: `, says what was expected and quotes the
 * offending text. Searches longer than `maxLength` characters (4096 by default), with more than
 * `maxConditions` conditions (256 by default) or with parentheses nested deeper than 64 levels are
 * refused the same way.
 */

export type Comparison = '=' | '!=' | '<' | '>' | '<=' | '>=';

export type Condition =
  | { kind: 'compare'; field: string; op: Comparison; value: string; wildcard: boolean; position: number }
  | { kind: 'and' | 'or'; left: Condition; right: Condition };

export interface SearchQuery {
  where?: Condition;
  sortBy: { field: string; direction: 'asc' | 'desc'; position: number }[];
  page?: number;
}

/** A search that cannot be parsed or uses a field that does not exist. */
export class SearchError extends Error {
  constructor(
    readonly position: number,
    message: string,
  ) {
    super(`at ${position}: ${message}`);
    this.name = 'SearchError';
  }
}

const maxDepth = 64;
const fieldPattern = /[A-Za-z_][A-Za-z0-9_.]*/y;
const operators: readonly Comparison[] = ['<=', '>=', '!=', '=', '<', '>'];
const keywords = new Set(['and', 'or', 'sortby', 'page']);

class Parser {
  private pos = 0;
  private conditions = 0;
  private depth = 0;

  constructor(
    private readonly input: string,
    private readonly maxConditions: number,
  ) {}

  parse(): SearchQuery {
    const query: SearchQuery = { sortBy: [] };
    this.skipSpace();
    if (!this.atEnd() && !this.atKeyword('sortby') && !this.atKeyword('page')) {
      query.where = this.expr();
      if (this.input[this.pos] === ')') throw this.fail('found ")" without a matching "("');
      if (!this.atEnd() && !this.atKeyword('sortby') && !this.atKeyword('page')) {
        throw this.fail(`expected "and", "or", another condition, "sortby", "page" or the end of the search${this.found()}`);
      }
    }
    if (this.atKeyword('sortby')) {
      this.advance('sortby'.length);
      do {
        const position = this.pos;
        const field = this.word();
        if (field === undefined) throw this.fail(`expected a field name to sort by${this.found()}`);
        this.advance(field.length);
        let direction: 'asc' | 'desc' = 'asc';
        if (this.atKeyword('asc') || this.atKeyword('desc')) {
          direction = this.word()!.toLowerCase() as 'asc' | 'desc';
          this.advance(direction.length);
        }
        query.sortBy.push({ field: field.toLowerCase(), direction, position });
      } while (this.eat(','));
      if (!this.atEnd() && !this.atKeyword('page')) {
        throw this.fail(`expected ",", "page" or the end of the search after the sort order${this.found()}`);
      }
    }
    if (this.atKeyword('page')) {
      this.advance('page'.length);
      const text = this.bareWord();
      const page = Number(text);
      if (text === '' || !/^[0-9]+$/.test(text) || page < 1 || !Number.isSafeInteger(page)) {
        throw this.fail(`expected a whole number of 1 or more after "page"${this.found()}`);
      }
      query.page = page;
      this.advance(text.length);
    }
    if (!this.atEnd()) throw this.fail(`expected the end of the search${this.found()}`);
    return query;
  }

  private expr(): Condition {
    const terms = [this.term()];
    while (this.atKeyword('or')) {
      this.advance('or'.length);
      terms.push(this.term());
    }
    return balanced('or', terms);
  }

  private term(): Condition {
    const factors = [this.factor()];
    for (;;) {
      if (this.atKeyword('and')) this.advance('and'.length);
      else if (!this.startsFactor()) break;
      factors.push(this.factor());
    }
    return balanced('and', factors);
  }

  private factor(): Condition {
    if (this.input[this.pos] === '(') {
      const open = this.pos;
      if (this.depth >= maxDepth) throw this.fail(`parentheses are nested more than ${maxDepth} levels deep`);
      this.advance(1);
      this.depth++;
      const inner = this.expr();
      this.depth--;
      if (this.input[this.pos] !== ')') throw this.fail(`expected ")" to close the "(" at ${open}${this.found()}`);
      this.advance(1);
      return inner;
    }
    const position = this.pos;
    const field = this.word();
    if (field === undefined || (keywords.has(field.toLowerCase()) && !this.operatorAfter(field))) {
      throw this.fail(`expected a field name or "("${this.found()}`);
    }
    this.advance(field.length);
    const op = operators.find((candidate) => this.input.startsWith(candidate, this.pos));
    if (op === undefined) throw this.fail(`expected an operator (=, !=, <, >, <=, >=) after ${quote(field)}${this.found()}`);
    this.advance(op.length);
    if (++this.conditions > this.maxConditions) {
      throw new SearchError(position, `the search has more than ${this.maxConditions} conditions`);
    }
    const valueAt = this.pos;
    const { value, wildcard } = this.value(`${field}${op}`);
    if (wildcard && op !== '=' && op !== '!=') {
      throw new SearchError(valueAt, `a wildcard "*" can only be used with = or !=, not in ${quote(this.input.slice(position, this.pos).trim())}`);
    }
    return { kind: 'compare', field: field.toLowerCase(), op, value, wildcard, position };
  }

  /** Reads a value; returns the literal text, or the pattern (see the header) when it has a wildcard. */
  private value(after: string): { value: string; wildcard: boolean } {
    if (this.input[this.pos] !== '"') {
      const text = this.bareWord();
      if (text === '') throw this.fail(`expected a value after ${quote(after)}${this.found()}`);
      this.advance(text.length);
      return text.includes('*') ? { value: text.replaceAll('\\', '\\\\'), wildcard: true } : { value: text, wildcard: false };
    }
    const open = this.pos;
    let literal = '';
    let pattern = '';
    let wildcard = false;
    let at = open + 1;
    for (;;) {
      const char = this.input[at];
      if (char === undefined) throw new SearchError(open, `the quoted value after ${quote(after)} has no closing quote`);
      if (char === '"') break;
      if (char === '*') {
        wildcard = true;
        literal += char;
        pattern += char;
        at += 1;
      } else if (char === '\\') {
        const escaped = this.input[at + 1];
        if (escaped !== '"' && escaped !== '\\' && escaped !== '*') {
          if (escaped === undefined) throw new SearchError(open, `the quoted value after ${quote(after)} has no closing quote`);
          throw new SearchError(at, `expected \\", \\\\ or \\* after a backslash in a quoted value, found "\\${escaped}"`);
        }
        literal += escaped;
        pattern += escaped === '"' ? escaped : `\\${escaped}`;
        at += 2;
      } else {
        literal += char;
        pattern += char;
        at += 1;
      }
    }
    this.pos = at + 1;
    const next = this.input[this.pos];
    if (next !== undefined && next !== ')' && !/\s/.test(next)) {
      throw this.fail(`expected a space or ")" after the quoted value${this.found()}`);
    }
    this.skipSpace();
    return { value: wildcard ? pattern : literal, wildcard };
  }

  private startsFactor(): boolean {
    if (this.input[this.pos] === '(') return true;
    const word = this.word();
    return word !== undefined && !(keywords.has(word.toLowerCase()) && !this.operatorAfter(word));
  }

  /** True when the word at the cursor is `keyword` and no operator follows it (else it is a field). */
  private atKeyword(keyword: string): boolean {
    const word = this.word();
    return word?.toLowerCase() === keyword && !this.operatorAfter(word);
  }

  private operatorAfter(word: string): boolean {
    let at = this.pos + word.length;
    while (at < this.input.length && /\s/.test(this.input[at]!)) at++;
    return operators.some((op) => this.input.startsWith(op, at));
  }

  /** The field-shaped word at the cursor, if any; does not move. */
  private word(): string | undefined {
    fieldPattern.lastIndex = this.pos;
    return fieldPattern.exec(this.input)?.[0];
  }

  /** The run of characters other than whitespace and parentheses at the cursor; does not move. */
  private bareWord(): string {
    let end = this.pos;
    while (end < this.input.length && !/[\s()]/.test(this.input[end]!)) end++;
    return this.input.slice(this.pos, end);
  }

  private eat(char: string): boolean {
    if (this.input[this.pos] !== char) return false;
    this.advance(1);
    return true;
  }

  private advance(length: number): void {
    this.pos += length;
    this.skipSpace();
  }

  private skipSpace(): void {
    while (this.pos < this.input.length && /\s/.test(this.input[this.pos]!)) this.pos++;
  }

  private atEnd(): boolean {
    return this.pos >= this.input.length;
  }

  /** `, found "…"` quoting the text at the cursor, or nothing at the end of the input. */
  private found(): string {
    if (this.atEnd()) return '';
    const char = this.input[this.pos]!;
    const text = char === '(' || char === ')' ? char : this.bareWord();
    return `, found ${quote(text)}`;
  }

  private fail(message: string): SearchError {
    return new SearchError(this.pos, message);
  }
}

/** Quotes text from the search for a message, shortening it to 24 characters. */
function quote(text: string): string {
  return `"${text.length > 24 ? `${text.slice(0, 24)}…` : text}"`;
}

/** Joins operands into a balanced tree that keeps their order; left halves get the extra operand. */
function balanced(kind: 'and' | 'or', operands: Condition[]): Condition {
  if (operands.length === 1) return operands[0]!;
  const half = Math.ceil(operands.length / 2);
  return { kind, left: balanced(kind, operands.slice(0, half)), right: balanced(kind, operands.slice(half)) };
}

/** Parses a search (see the header for the language); throws a SearchError for anything else. */
export function parseSearch(input: string, options: { maxLength?: number; maxConditions?: number } = {}): SearchQuery {
  const maxLength = options.maxLength ?? 4096;
  if (input.length > maxLength) {
    throw new SearchError(maxLength, `expected a search of at most ${maxLength} characters, found ${input.length}`);
  }
  return new Parser(input, options.maxConditions ?? 256).parse();
}

function* compares(condition: Condition | undefined): Generator<Extract<Condition, { kind: 'compare' }>> {
  if (condition === undefined) return;
  if (condition.kind === 'compare') {
    yield condition;
  } else {
    yield* compares(condition.left);
    yield* compares(condition.right);
  }
}

/** Every field the query uses, in conditions then in the sort order, each once, in order of first use. */
export function fieldsOf(query: SearchQuery): string[] {
  const fields = [...compares(query.where)].map((compare) => compare.field);
  return [...new Set([...fields, ...query.sortBy.map((item) => item.field)])];
}

/**
 * Throws a SearchError at the first field, from left to right, that is not one of `known`
 * (compared case-insensitively); the message lists the valid fields.
 */
export function checkFields(query: SearchQuery, known: readonly string[]): void {
  const valid = new Set(known.map((field) => field.toLowerCase()));
  const used = [...compares(query.where), ...query.sortBy];
  const unknown = used.find((item) => !valid.has(item.field.toLowerCase()));
  if (unknown !== undefined) {
    const list = [...known].sort().join(', ');
    throw new SearchError(unknown.position, `unknown field ${quote(unknown.field)}; the valid fields are: ${list}`);
  }
}
