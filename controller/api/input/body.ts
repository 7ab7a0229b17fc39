import type { IncomingMessage } from 'node:http';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ServiceError, invalid } from '../../rules/errors.js';

/** The largest request body the API accepts. */
export const maxBodyBytes = 1024 * 1024;

/** A parsed request document: element (or JSON member) names to text or nested documents. */
export type Doc = { [name: string]: string | Doc | Doc[] | string[] };

/** How deeply a request document may nest; the deepest real document (vm.cpu.topology.cores) has four levels. */
export const maxDocumentDepth = 32;

/** Member names that would reach an object's prototype; no API document uses them. */
const reservedNames = new Set(['__proto__', 'constructor', 'prototype']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: false,
  ignoreDeclaration: true,
  maxNestedTags: maxDocumentDepth,
});

export async function readBody(request: IncomingMessage, limit = maxBodyBytes): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): ServiceError {
  return new ServiceError('too_large', 'Request Entity Too Large', `the request body is larger than the limit of ${limit} bytes`);
}

/** The media type a request body is written in. */
export type BodyMedia = 'xml' | 'json';

/** Whether a body is JSON (its content type says so, or, without an XML content type, it starts as JSON does) or XML. */
export function bodyMediaOf(text: string, contentType: string | undefined): BodyMedia {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type.endsWith('json') || (!type.endsWith('xml') && /^\s*[{[]/.test(text)) ? 'json' : 'xml';
}

/** Parses an XML or JSON body whose document element must be `root` (JSON bodies have no root element). */
export function parseDocument(raw: Buffer, contentType: string | undefined, root: string): Doc {
  const text = raw.toString('utf8');
  if (!text.trim()) throw invalid(`the request needs a <${root}> document`);
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (bodyMediaOf(text, contentType) === 'json') return parseJson(text, root);
  if (type && !type.endsWith('xml') && type !== 'text/plain' && type !== 'application/x-www-form-urlencoded') {
    throw new ServiceError('unsupported_media', 'Unsupported Media Type', `content type ${type} is not supported; send application/xml or application/json`);
  }
  return parseXml(text, root);
}

function parseJson(text: string, root: string): Doc {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(`the JSON body is malformed: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`the JSON body must be an object describing a ${root}`);
  return normalizeJson(value as Record<string, unknown>, root, 1);
}

/** Copies parsed JSON into a prototype-less document, refusing reserved member names and deep nesting (which would overflow the stack). */
function normalizeJson(value: Record<string, unknown>, path: string, depth: number): Doc {
  if (depth > maxDocumentDepth) throw invalid(`the JSON body nests deeper than ${maxDocumentDepth} levels`);
  const doc: Doc = Object.create(null) as Doc;
  for (const [key, member] of Object.entries(value)) {
    if (reservedNames.has(key)) throw invalid(`${path}.${key} is not a valid member name`);
    if (member === null || member === undefined) continue;
    if (Array.isArray(member)) {
      doc[key] = member.map((item) => (typeof item === 'object' && item !== null ? normalizeJson(item as Record<string, unknown>, `${path}.${key}`, depth + 1) : scalarText(item, `${path}.${key}`))) as Doc[] | string[];
    } else if (typeof member === 'object') {
      doc[key] = normalizeJson(member as Record<string, unknown>, `${path}.${key}`, depth + 1);
    } else {
      doc[key] = scalarText(member, `${path}.${key}`);
    }
  }
  return doc;
}

function scalarText(value: unknown, path: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw invalid(`${path} has an unsupported JSON value`);
}

/** An empty document element, perhaps after an XML declaration: what clients send for most actions. */
const emptyElement = /^\s*(?:<\?xml [^<>]*\?>\s*)?<([A-Za-z_][\w.-]*)\s*\/>\s*$/;

function parseXml(text: string, root: string): Doc {
  const empty = emptyElement.exec(text);
  if (empty) {
    if (empty[1] !== root) throw invalid(`the document element must be <${root}>, not <${empty[1]}>`);
    return {};
  }
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw invalid('XML documents with a DOCTYPE or entity declarations are refused');
  if (xmlNestsDeeperThan(text, maxDocumentDepth)) throw invalid(`the XML body nests deeper than ${maxDocumentDepth} levels`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw invalid(`the XML body is malformed: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  let parsed: Record<string, unknown>;
  try {
    parsed = parser.parse(text) as Record<string, unknown>;
  } catch (error) {
    // The parser refuses what the validator lets through: nesting beyond its limit, and names such as
    // __proto__ or constructor. Either is the client's document at fault, not the server.
    throw invalid(`the XML body cannot be read: ${(error as Error).message}`);
  }
  const roots = Object.keys(parsed).filter((key) => !key.startsWith('?'));
  if (roots.length !== 1 || roots[0] !== root) throw invalid(`the document element must be <${root}>, not <${roots.join('>, <')}>`);
  const body = parsed[root];
  if (Array.isArray(body)) throw invalid(`the document has ${body.length} <${root}> elements; an XML document has one document element`);
  if (typeof body === 'string') return {};
  return (body ?? {}) as Doc;
}

/**
 * Whether elements nest deeper than `limit`, by one pass over the text
 * (before the validator and the parser, which take hundreds of
 * milliseconds over a megabyte of nesting). Markup that is not an element
 * (declarations, comments, CDATA) is skipped; a malformed document is left
 * to the validator.
 */
function xmlNestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  for (let index = text.indexOf('<'); index >= 0; index = text.indexOf('<', index + 1)) {
    const next = text.charCodeAt(index + 1);
    if (next === 0x2f) depth--; // </
    else if (next === 0x3f || next === 0x21) continue; // <? <!
    else {
      const end = text.indexOf('>', index);
      if (end < 0) return false;
      if (text.charCodeAt(end - 1) !== 0x2f && ++depth > limit) return true;
      index = end;
    }
  }
  return false;
}
