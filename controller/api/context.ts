import { hash } from 'node:crypto';
import type { RouterContext } from '@koa/router';
import type { Principal } from '../services/auth.js';
import type { Task } from '../db/entities.js';
import { ServiceError } from '../rules/errors.js';
import type { Presenter } from './present/entities.js';
import { render, type MediaType, type Rendered, type Rep } from './present/representation.js';

export interface ApiState {
  base: string;
  media: MediaType;
  correlationId: string;
  present: Presenter;
  principal?: Principal;
  /** The request's body, once read: a route's authorization step may read it before its handler does. */
  body?: Buffer;
  /** Whether what the request reads is limited to what its user may see (see api/permits.ts). */
  filtered?: boolean;
  /** The task the request submitted and answered with, if any (see api/audit.ts). */
  task?: Task;
  /** Called once the request's task is submitted, before the request waits for it (see api/audit.ts). */
  taskSubmitted?: (task: Task) => void;
}

export type ApiContext = RouterContext<ApiState>;

const contentTypes: Record<MediaType, string> = { xml: 'application/xml', json: 'application/json' };

/** A strong entity tag of a document: it changes whenever a byte of the document does. */
export function entityTag(body: string | Buffer): string {
  return `"${hash('sha1', body, 'base64url')}"`;
}

function matchesTag(header: string, tag: string): boolean {
  return header.trim() === '*' || header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === tag);
}

/**
 * Sends a document; a GET whose If-None-Match names its entity tag gets 304
 * and no body. The document is encoded once, for its tag and for the wire
 * (a large list's text would otherwise be encoded twice).
 */
function send(ctx: ApiContext, status: number, text: string, knownTag?: string): void {
  const body = Buffer.from(text, 'utf8');
  const tag = knownTag ?? (status === 200 ? entityTag(body) : undefined);
  ctx.set('Content-Type', contentTypes[ctx.state.media]);
  if (tag) {
    ctx.set('ETag', tag);
    const condition = ctx.get('If-None-Match');
    if (condition && (ctx.method === 'GET' || ctx.method === 'HEAD') && matchesTag(condition, tag)) {
      ctx.status = 304;
      ctx.body = null;
      return;
    }
  }
  ctx.status = status;
  ctx.body = body;
}

export function respond(ctx: ApiContext, status: number, root: string, body: Rep): void {
  send(ctx, status, render(root, body, ctx.state.media));
}

/**
 * Answers 200 with one entity's document, rendered (and tagged) once per
 * `version`: the caller passes a version that changes whenever anything the
 * document shows changes.
 */
export function respondEntity(ctx: ApiContext, root: string, id: string, version: string, build: () => Rep): void {
  const media = ctx.state.media;
  const cached = ctx.state.present.rendered.get(`${media}:${root}:${id}`, version, () => render(root, build(), media));
  send(ctx, 200, cached.body, cached.tag);
}

export function respondList(ctx: ApiContext, root: string, element: string, items: (Rep | Rendered)[]): void {
  respond(ctx, 200, root, { [element]: items });
}

/**
 * Honors If-Match on a change: when the header is there and names none of
 * the tags the object's current document has (in XML or JSON, with or
 * without all content), the change is refused with 412.
 */
export async function checkIfMatch(ctx: ApiContext, root: string, current: (allContent: boolean) => Promise<Rep> | Rep): Promise<void> {
  const condition = ctx.get('If-Match');
  if (!condition || condition.trim() === '*') return;
  const tags: string[] = [];
  for (const allContent of [false, true]) {
    const rep = await current(allContent);
    for (const media of ['xml', 'json'] as const) tags.push(entityTag(render(root, rep, media)));
  }
  if (!tags.some((tag) => matchesTag(condition, tag))) {
    throw new ServiceError('precondition_failed', 'Precondition Failed', `the ${root.replace('_', ' ')} changed since the entity tag ${condition.trim()} was issued; get it again`);
  }
}
