import { invalid } from '../../rules/errors.js';
import type { BodyMedia, Doc } from './body.js';

/**
 * A point in time as a request writes it: ISO 8601 with a time zone
 * (`2026-12-07T10:00:00Z`, `2026-12-07T11:00:00.5+01:00`), in XML and JSON; in
 * JSON also a number of milliseconds since the epoch, the form oVirt's engine
 * writes there.
 */
const isoInstant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const epochMilliseconds = /^-?\d{1,15}$/;

/** Reads typed, validated values out of a parsed request document. */
export class Fields {
  constructor(
    private readonly doc: Doc,
    private readonly path: string,
    /** The media type the document was written in, which decides the forms a date may take. */
    private readonly media: BodyMedia = 'xml',
  ) {}

  /** Where these fields are in the request document, for messages. */
  get where(): string {
    return this.path;
  }

  private raw(name: string): string | Doc | Doc[] | string[] | undefined {
    return Object.hasOwn(this.doc, name) ? this.doc[name] : undefined;
  }

  text(name: string, options: { required?: boolean; max?: number; pattern?: RegExp; patternHint?: string } = {}): string | undefined {
    const value = this.raw(name);
    const where = `${this.path}.${name}`;
    if (value === undefined) {
      if (options.required) throw invalid(`${where} is required`);
      return undefined;
    }
    if (typeof value !== 'string') throw invalid(`${where} must be text`);
    // NUL cannot be stored (PostgreSQL refuses it, SQLite cuts the statement at it), and no field needs control characters.
    if (controlCharacters.test(value)) throw invalid(`${where} must not contain control characters`);
    if (options.max !== undefined && value.length > options.max) throw invalid(`${where} is longer than ${options.max} characters`);
    if (options.pattern && !options.pattern.test(value)) throw invalid(`${where} ${options.patternHint ?? `must match ${options.pattern}`}`);
    return value;
  }

  integer(name: string, options: { required?: boolean; min: number; max: number; multipleOf?: number }): number | undefined {
    const value = this.text(name, { required: options.required });
    if (value === undefined) return undefined;
    const where = `${this.path}.${name}`;
    if (!/^-?\d+$/.test(value.trim())) throw invalid(`${where} must be a whole number, not "${value}"`);
    const number = Number(value);
    if (!Number.isSafeInteger(number) || number < options.min || number > options.max) {
      throw invalid(`${where} must be between ${options.min} and ${options.max}`);
    }
    if (options.multipleOf && number % options.multipleOf !== 0) throw invalid(`${where} must be a multiple of ${options.multipleOf}`);
    return number;
  }

  boolean(name: string): boolean | undefined {
    const value = this.text(name);
    if (value === undefined) return undefined;
    if (value === 'true') return true;
    if (value === 'false') return false;
    throw invalid(`${this.path}.${name} must be true or false`);
  }

  /** A point in time (see isoInstant), as milliseconds since the epoch. */
  date(name: string, options: { required?: boolean } = {}): number | undefined {
    const value = this.text(name, { required: options.required, max: 64 });
    if (value === undefined) return undefined;
    const where = `${this.path}.${name}`;
    if (this.media === 'json' && epochMilliseconds.test(value)) return Number(value);
    const epochMs = isoInstant.test(value) ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(epochMs)) {
      const forms = this.media === 'json' ? 'milliseconds since the epoch or ISO 8601 with a time zone' : 'ISO 8601 with a time zone';
      throw invalid(`${where} must be a date and time, as ${forms} (2026-12-07T10:00:00Z), not "${value}"`);
    }
    return epochMs;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], options: { required?: boolean } = {}): T | undefined {
    const value = this.text(name, options);
    if (value === undefined) return undefined;
    if (!allowed.includes(value as T)) throw invalid(`${this.path}.${name} must be one of ${allowed.join(', ')}, not "${value}"`);
    return value as T;
  }

  nested(name: string, options: { required?: boolean } = {}): Fields | undefined {
    const value = this.raw(name);
    const where = `${this.path}.${name}`;
    if (value === undefined || value === '') {
      if (options.required) throw invalid(`${where} is required`);
      return value === '' ? new Fields({}, where, this.media) : undefined;
    }
    if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${where} must be a single element`);
    return new Fields(value, where, this.media);
  }

  /** The repeated elements `name` (one element or a list of them), each as Fields; an empty list when absent. */
  items(name: string, options: { max?: number } = {}): Fields[] {
    const value = this.raw(name);
    const where = `${this.path}.${name}`;
    if (value === undefined || value === '') return [];
    const list = Array.isArray(value) ? value : [value];
    if (options.max !== undefined && list.length > options.max) throw invalid(`${where} may have at most ${options.max} elements`);
    return list.map((item, index) => {
      if (typeof item !== 'object' || item === null) throw invalid(`${where}[${index}] must be an element`);
      return new Fields(item, `${where}[${index}]`, this.media);
    });
  }

  /** The texts of the repeated elements `name` (one element or a list of them), each one of `allowed`; an empty list when absent. */
  oneOfEach<T extends string>(name: string, allowed: readonly T[], options: { max: number }): T[] {
    const value = this.raw(name);
    const where = `${this.path}.${name}`;
    if (value === undefined || value === '') return [];
    const list = Array.isArray(value) ? value : [value];
    if (list.length > options.max) throw invalid(`${where} may have at most ${options.max} elements`);
    return list.map((item, index) => {
      if (typeof item !== 'string' || !allowed.includes(item as T)) throw invalid(`${where}[${index}] must be one of ${allowed.join(', ')}, not ${JSON.stringify(item)}`);
      return item as T;
    });
  }

  /** A reference to another object by `id` (attribute or element) or `name`. */
  reference(name: string, options: { required?: boolean } = {}): { id?: string; name?: string } | undefined {
    const nested = this.nested(name, options);
    if (!nested) return undefined;
    const id = nested.text('id', { max: 64 });
    const refName = nested.text('name', { max: 255 });
    if (!id && !refName) throw invalid(`${this.path}.${name} needs an id or a name`);
    return id ? { id } : { name: refName };
  }
}

/** C0 controls other than tab, line feed and carriage return, DEL, and the non-characters U+FFFE and U+FFFF. */
export const controlCharacters = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]/;

export const namePattern = /^[\p{L}\p{N}._-]{1,255}$/u;
export const nameHint = 'may contain only letters, digits, ".", "_" and "-" (1 to 255 characters)';
