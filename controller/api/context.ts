import type { RouterContext } from '@koa/router';
import type { Principal } from '../services/auth.js';
import type { Presenter } from './present/entities.js';
import { render, type MediaType, type Rep } from './present/representation.js';

export interface ApiState {
  base: string;
  media: MediaType;
  correlationId: string;
  present: Presenter;
  principal?: Principal;
}

export type ApiContext = RouterContext<ApiState>;

export function respond(ctx: ApiContext, status: number, root: string, body: Rep): void {
  ctx.status = status;
  ctx.type = ctx.state.media === 'json' ? 'application/json' : 'application/xml';
  ctx.body = render(root, body, ctx.state.media);
}

export function respondList(ctx: ApiContext, root: string, element: string, items: Rep[]): void {
  respond(ctx, 200, root, { [element]: items });
}
