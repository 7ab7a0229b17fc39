import { entityTag } from '../context.js';
import type { Rendered } from './representation.js';

/**
 * Rendered documents of single entities, remembered by a version string that
 * changes whenever anything the document shows changes, so that reading an
 * unchanged object renders nothing. The oldest entries are dropped beyond the
 * capacity.
 */
export class RenderedDocuments {
  private readonly entries = new Map<string, { version: string; body: string; tag: string }>();

  constructor(private readonly capacity = 20_000) {}

  /** The document and its entity tag for the key at this version, rendering it when the version changed. */
  get(key: string, version: string, render: () => string): { body: string; tag: string } {
    const entry = this.entries.get(key);
    if (entry?.version === version) return entry;
    const body = render();
    if (entry) this.entries.delete(key);
    else if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    const fresh = { version, body, tag: entityTag(body) };
    this.entries.set(key, fresh);
    return fresh;
  }
}

/** How many rendered parts a presenter keeps, unless configured otherwise. */
export const defaultRenderedPartsCapacity = 100_000;

/**
 * Rendered parts of documents (embedded objects), remembered by a version
 * string as RenderedDocuments are, without entity tags.
 */
export class RenderedParts {
  private readonly entries = new Map<string, { version: string; part: Rendered }>();

  constructor(private readonly capacity = defaultRenderedPartsCapacity) {}

  /** The part for the key at this version, if there is one. */
  peek(key: string, version: string): Rendered | undefined {
    const entry = this.entries.get(key);
    return entry?.version === version ? entry.part : undefined;
  }

  get(key: string, version: string, render: () => Rendered): Rendered {
    const entry = this.entries.get(key);
    if (entry?.version === version) return entry.part;
    const part = render();
    if (entry) this.entries.delete(key);
    else if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { version, part });
    return part;
  }
}
