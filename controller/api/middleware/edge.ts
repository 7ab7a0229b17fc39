import { randomUUID } from 'node:crypto';
import type { Next } from 'koa';
import { invalid } from '../../services/errors.js';
import type { ApiContext } from '../context.js';
import { Presenter } from '../present/entities.js';
import type { MediaType } from '../present/representation.js';

const apiRoots = ['/ovirt-engine/api', '/api'];

/** Echoes or creates the Correlation-Id, and keeps unread request bodies from stalling the connection. */
export async function correlation(ctx: ApiContext, next: Next) {
  const given = ctx.get('Correlation-Id');
  ctx.state.correlationId = given && given.length <= 255 ? given : randomUUID();
  ctx.set('Correlation-Id', ctx.state.correlationId);
  ctx.state.media = negotiate(ctx);
  ctx.state.present = new Presenter(apiRoots[0]!);
  const declaresBody = Number(ctx.get('Content-Length') || 0) > 0 || ctx.get('Transfer-Encoding') !== '';
  if (declaresBody && ['GET', 'HEAD', 'DELETE'].includes(ctx.method)) ctx.set('Connection', 'close');
  await next();
}

/** Strips the API prefix (with an optional /v4), checks the requested version, and fixes the base for hrefs. */
export async function apiPrefix(ctx: ApiContext, next: Next) {
  const root = apiRoots.find((candidate) => ctx.path === candidate || ctx.path.startsWith(`${candidate}/`));
  if (!root) return next();
  let rest = ctx.path.slice(root.length);
  let base = root;
  const versioned = /^\/v(\d+)(?=\/|$)/.exec(rest);
  if (versioned) {
    if (versioned[1] !== '4') throw invalid(`API version ${versioned[1]} is not supported; this server speaks version 4`);
    base = `${root}/v4`;
    rest = rest.slice(versioned[0].length);
  }
  const header = ctx.get('Version');
  if (header && header.trim() !== '4') throw invalid(`API version ${header} is not supported; this server speaks version 4`);
  ctx.state.base = base;
  ctx.state.present = new Presenter(base);
  ctx.path = rest === '' ? '/' : rest.replace(/\/+$/, '') || '/';
  await next();
}

function negotiate(ctx: ApiContext): MediaType {
  const override = typeof ctx.query.accept === 'string' ? ctx.query.accept : undefined;
  const accept = (override ?? ctx.get('Accept')).toLowerCase();
  return accept.includes('json') ? 'json' : 'xml';
}
