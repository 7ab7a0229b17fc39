import { enrollmentRoutes } from './routes/enrollment.js';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { ApiState } from './context.js';
import { faults } from './middleware/faults.js';
import { createEdge } from './middleware/edge.js';
import { ApiRouter } from './routing.js';
import { authenticate } from './middleware/auth.js';
import { rootRoutes } from './routes/root.js';
import { dataCenterRoutes } from './routes/datacenters.js';
import { clusterRoutes } from './routes/clusters.js';
import { hostRoutes } from './routes/hosts.js';
import { vmRoutes } from './routes/vms.js';
import { taskRoutes } from './routes/tasks.js';
import { jobRoutes } from './routes/jobs.js';
import { ssoRoutes } from './routes/sso.js';
import { storageRoutes } from './routes/storage.js';
import { networkRoutes } from './routes/networks.js';
import { vmDeviceRoutes } from './routes/vm-devices.js';
import { cdromRoutes } from './routes/cdroms.js';
import { templateRoutes } from './routes/templates.js';
import { vmPoolRoutes } from './routes/vmpools.js';
import { collectionRoutes } from './routes/collections.js';
import { vmSnapshotRoutes } from './routes/vm-snapshots.js';
import { consoleRoutes } from './routes/consoles.js';
import { pkiRoutes, type PkiDocuments } from './routes/pki.js';
import { accessRoutes } from './routes/access.js';
import { tagRoutes } from './routes/tags.js';
import { authorize, requirementOf } from './permits.js';
import { audited } from './audit.js';
import { eventRoutes } from './routes/events.js';
import { EventStreams, type EventStreamSettings } from './event-stream.js';

/** A stream subscriber may fall 1 MiB behind before it is cut off; an idle stream sends a comment every 15 s. */
const defaultStreamSettings: EventStreamSettings = { bufferBytes: 1024 * 1024, heartbeatMs: 15_000 };
import { counted } from '../db/dialect.js';
import { withinRequest } from '../tasks/jobs.js';
import type { Services } from './services.js';

const ssoPaths = ['/ovirt-engine/sso/', '/ovirt-engine/services/'];

/** Every resource route of the API, each with all its steps: no route depends on the order of these calls. */
export function apiRoutes(services: Services, streams: EventStreams = new EventStreams(services.events, defaultStreamSettings)): ApiRouter {
  const api = new ApiRouter((method, path) => {
    const audit = audited(services.events, method, path);
    return [authorize(services, requirementOf(method, path)), ...(audit ? [audit] : [])];
  });
  rootRoutes(api, services.hosts, services.vms);
  collectionRoutes(api, services);
  dataCenterRoutes(api, services);
  clusterRoutes(api, services);
  hostRoutes(api, services);
  vmRoutes(api, services);
  vmDeviceRoutes(api, services);
  cdromRoutes(api, services);
  consoleRoutes(api, services);
  vmSnapshotRoutes(api, services);
  taskRoutes(api, services);
  jobRoutes(api, services);
  storageRoutes(api, services);
  networkRoutes(api, services);
  templateRoutes(api, services);
  vmPoolRoutes(api, services);
  enrollmentRoutes(api, services);
  accessRoutes(api, services);
  eventRoutes(api, services, streams);
  tagRoutes(api, services);
  return api;
}

/** Assembles the HTTP API: edge concerns, faults, the CA certificate for clients, SSO, then authenticated resource routes. */
export function createApi(services: Services, log: Logger, pki: PkiDocuments, options: { countStatements?: boolean; eventStreams?: EventStreamSettings } = {}): Koa<ApiState> {
  const app = new Koa<ApiState>();
  app.proxy = false;
  const sso = ssoRoutes(services.auth);
  const api = apiRoutes(services, new EventStreams(services.events, options.eventStreams ?? defaultStreamSettings));
  const ssoEndpoints = sso.routes();
  const { correlation, apiPrefix } = createEdge(
    (hostId) => services.vms.hostSummary(hostId),
    (vmId) => services.migrations.progressOf(vmId),
  );
  app.use(correlation);
  app.use(faults(log, (path) => api.allowedMethods(path)));
  app.use(pkiRoutes(pki));
  app.use((ctx, next) => (ssoPaths.some((prefix) => ctx.path.startsWith(prefix)) ? ssoEndpoints(ctx as never, next) : next()));
  app.use((ctx, next) => (ctx.body === undefined && ctx.status === 404 ? apiPrefix(ctx as never, next) : undefined));
  app.use(authenticate(services.auth, services.users));
  app.use((ctx, next) =>
    ctx.method === 'GET' || ctx.method === 'HEAD' ? next() : withinRequest({ correlationId: ctx.state.correlationId, ownerId: ctx.state.principal?.userId ?? null, open: true }, next),
  );
  if (options.countStatements) {
    app.use((ctx, next) =>
      counted(async (counter) => {
        await next();
        ctx.set('X-Drover-Statements', String(counter.count));
      }),
    );
  }
  app.use(api.routes());
  app.on('error', (error) => log.debug({ err: error }, 'response stream error'));
  return app;
}
