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

/** How many rendered parts a presenter keeps. */
const renderedPartsCapacity = 100_000;

/**
 * Rendered parts of documents (embedded objects and list items), by media
 * type, kind and id, remembered by a version string as RenderedDocuments
 * are, without entity tags.
 */
export class RenderedParts {
  private readonly groups = new Map<string, Map<string, { version: string; part: Rendered }>>();
  private readonly order: [Map<string, unknown>, string][] = [];
  private size = 0;

  constructor(private readonly capacity = renderedPartsCapacity) {}

  /** The part for the object at this version, if there is one. */
  peek(group: string, id: string, version: string): Rendered | undefined {
    const entry = this.groups.get(group)?.get(id);
    return entry?.version === version ? entry.part : undefined;
  }

  get(group: string, id: string, version: string, render: () => Rendered): Rendered {
    let entries = this.groups.get(group);
    if (!entries) this.groups.set(group, (entries = new Map()));
    const entry = entries.get(id);
    if (entry?.version === version) return entry.part;
    const part = render();
    if (entry) {
      entry.version = version;
      entry.part = part;
      return part;
    }
    entries.set(id, { version, part });
    this.order.push([entries, id]);
    if (++this.size > this.capacity) this.evictOldest();
    return part;
  }

  /** Drops the oldest tenth at once, so that a working set beyond the capacity costs no more per entry than one within it. */
  private evictOldest(): void {
    const excess = this.order.splice(0, Math.max(1, Math.ceil(this.capacity / 10)));
    for (const [entries, id] of excess) entries.delete(id);
    this.size -= excess.length;
  }
}
