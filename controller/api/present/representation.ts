/**
 * A point in time in a document. oVirt's engine writes it per media type, and
 * so does the writer here: in XML as ISO 8601 with the offset
 * (`2026-12-06T17:31:47.123+00:00`), in JSON as a number of milliseconds since
 * the epoch (`1796578307123`), the form oVirt's own web UI reads.
 */
export class Instant {
  constructor(readonly epochMs: number) {}

  get iso(): string {
    return new Date(this.epochMs).toISOString().replace('Z', '+00:00');
  }
}

/**
 * The neutral form of an API document: element names map to text, nested
 * documents, or lists of them; `$` holds an element's XML attributes (`id`,
 * `href`, `rel`). Undefined members are left out. The same tree renders as
 * oVirt XML and as oVirt JSON.
 *
 * Text that is empty is a value, not an absence: XML writes it open and
 * closed (`<custom_kernel_cmdline></custom_kernel_cmdline>`), which oVirt's
 * Python SDK reads as "" where it reads `<x/>` as None; JSON writes `""`. A
 * nested document with nothing in it is written `<x/>` (JSON `{}`).
 */
export type Scalar = string | number | boolean | Instant;
export interface Rep {
  $?: Record<string, string>;
  [element: string]: Scalar | Scalar[] | Rep | Rendered | (Rep | Rendered)[] | Record<string, string> | undefined;
}

/**
 * A part of a document already rendered in the media type of the document it
 * goes into: an element, named as where it goes (XML), or an object (JSON).
 */
export class Rendered {
  constructor(readonly text: string) {}
}

export type MediaType = 'xml' | 'json';

/** Renders a document whose outermost element is `root` (for example `vm`, or `vms` around a list). */
export function render(root: string, body: Rep, type: MediaType): string {
  if (type === 'json') return jsonObject(body);
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n${xmlElement(root, body)}`;
}

/** Renders one object as a part of a larger document, under the element name it will have there. */
export function renderPart(name: string, body: Rep, type: MediaType): Rendered {
  return new Rendered(type === 'json' ? jsonObject(body) : xmlElement(name, body));
}

const xmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const needsEscaping = /[&<>"']/;
const escapeXml = (text: string) => (needsEscaping.test(text) ? text.replace(/[&<>"']/g, (character) => xmlEscapes[character]!) : text);

/** Writes one element of the tree; this small writer renders our own trees several times faster than a generic builder. */
function xmlElement(name: string, value: Scalar | Rep | Rep[] | Scalar[]): string {
  if (value instanceof Rendered) return value.text;
  if (Array.isArray(value)) return (value as (Scalar | Rep)[]).map((item) => xmlElement(name, item)).join('');
  if (value instanceof Instant) return `<${name}>${value.iso}</${name}>`;
  if (typeof value !== 'object') return `<${name}>${escapeXml(String(value))}</${name}>`;
  let attributes = '';
  if (value.$) for (const [attribute, text] of Object.entries(value.$)) attributes += ` ${attribute}="${escapeXml(text)}"`;
  let children = '';
  for (const [child, member] of Object.entries(value)) {
    if (child === '$' || member === undefined) continue;
    children += xmlElement(child, member as Scalar | Rep | Rep[] | Scalar[]);
  }
  return children === '' ? `<${name}${attributes}/>` : `<${name}${attributes}>${children}</${name}>`;
}

const needsJsonEscaping = /["\\\u0000-\u001f\u2028\u2029]/;
const jsonString = (text: string) => (needsJsonEscaping.test(text) ? JSON.stringify(text) : `"${text}"`);

/** Writes a tree as oVirt JSON in one pass: attributes and elements become members, scalars strings, instants numbers. */
function jsonObject(value: Rep): string {
  const members: string[] = [];
  if (value.$) for (const key in value.$) members.push(`"${key}":${jsonString(value.$[key]!)}`);
  for (const key in value) {
    const member = value[key];
    if (key === '$' || member === undefined) continue;
    members.push(`"${key}":${jsonMember(member as Scalar | Rep | Rep[] | Scalar[])}`);
  }
  return `{${members.join(',')}}`;
}

function jsonMember(member: Scalar | Rep | Rep[] | Scalar[]): string {
  if (Array.isArray(member)) {
    const items: string[] = [];
    for (const item of member as (Scalar | Rep)[]) items.push(jsonMember(item));
    return `[${items.join(',')}]`;
  }
  if (member instanceof Rendered) return member.text;
  if (member instanceof Instant) return String(member.epochMs);
  if (typeof member === 'object') return jsonObject(member);
  return jsonString(String(member));
}

export const link = (href: string, rel: string): Rep => ({ $: { href, rel } });
export const ref = (href: string, id: string): Rep => ({ $: { href, id } });
