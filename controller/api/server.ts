import Koa from 'koa';
import Router from '@koa/router';
import type { Logger } from 'pino';
import type { ApiState } from './context.js';
import { faults } from './middleware/faults.js';
import { apiPrefix, correlation } from './middleware/edge.js';
import { authenticate } from './middleware/auth.js';
import { rootRoutes } from './routes/root.js';
import { dataCenterRoutes } from './routes/datacenters.js';
import { clusterRoutes } from './routes/clusters.js';
import { hostRoutes } from './routes/hosts.js';
import { vmRoutes } from './routes/vms.js';
import { taskRoutes } from './routes/tasks.js';
import { ssoRoutes } from './routes/sso.js';
import type { Services } from '../services/index.js';
import { ServiceError } from '../services/errors.js';

/** Assembles the HTTP API: edge concerns, faults, SSO, then authenticated resource routes. */
export function createApi(services: Services, log: Logger): Koa<ApiState> {
  const app = new Koa<ApiState>();
  app.proxy = false;
  const sso = ssoRoutes(services.auth);
  const api = new Router<ApiState>();
  rootRoutes(api, services.hosts, services.vms);
  dataCenterRoutes(api, services.dataCenters, services.clusters);
  clusterRoutes(api, services.clusters);
  hostRoutes(api, services.hosts, services.tasks);
  vmRoutes(api, services.vms, services.tasks);
  taskRoutes(api, services.tasks);
  app.use(correlation);
  app.use(faults(log));
  app.use(sso.routes());
  app.use(async (ctx, next) => {
    if (ctx.body !== undefined || ctx.status !== 404) return;
    await apiPrefix(ctx as never, async () => {
      if (ctx.state.base === undefined) throw new ServiceError('not_found', 'Not Found', `${ctx.path} is not part of this API; it lives at /ovirt-engine/api`);
      await next();
    });
  });
  app.use(authenticate(services.auth));
  app.use(api.routes());
  app.use(api.allowedMethods());
  app.on('error', (error) => log.debug({ err: error }, 'response stream error'));
  return app;
}
