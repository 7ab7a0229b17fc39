import { entityTag } from '../context.js';

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
