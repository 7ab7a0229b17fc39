import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { openDatabase, type Orm } from './db/orm.js';
import { AgentHub } from './agents/agent-hub.js';
import { AgentGatewayServer } from './agents/grpc-server.js';
import { createServices, type Services } from './services/index.js';
import { createApi } from './api/server.js';
import { countStatements } from './db/dialect.js';
import { splitHostPort, type ControllerConfig } from './config.js';

export interface RunningController {
  apiUrl: string;
  grpcAddress: string;
  services: Services;
  orm: Orm;
  /** The admin password generated at first start, if one was. */
  generatedAdminPassword?: string;
  stop(): Promise<void>;
}

/** Opens the database, then serves agents over gRPC and clients over HTTP. */
export async function startController(config: ControllerConfig, log: Logger): Promise<RunningController> {
  const orm = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  const hub = new AgentHub();
  const services = await createServices(orm, hub, log, config);
  const generatedAdminPassword = await services.auth.ensureAdmin(config.adminPassword);
  await services.scheduler.recover();

  const gateway = new AgentGatewayServer(hub, services.hosts, log.child({ component: 'agents' }), (usage) => services.storageDomains.recordUsage(usage));
  const grpcPort = await gateway.listen(config.grpcListen);
  const grpcAddress = `${splitHostPort(config.grpcListen).host}:${grpcPort}`;

  if (config.countStatements) countStatements(orm);
  const api = createApi(services, log.child({ component: 'api' }), { countStatements: config.countStatements });
  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 60_000 }, api.callback());
  const { host, port } = splitHostPort(config.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const apiPort = (server.address() as AddressInfo).port;
  const apiUrl = `http://${host.includes(':') ? `[${host}]` : host}:${apiPort}/ovirt-engine/api`;

  let checking = false;
  const liveness = setInterval(() => {
    if (checking) return;
    checking = true;
    services.hosts
      .checkLiveness()
      .catch((error) => log.error({ err: error }, 'host liveness check failed'))
      .finally(() => (checking = false));
  }, Math.max(100, Math.floor(config.heartbeatIntervalMs / 2)));

  let reconciling = false;
  const pools = setInterval(() => {
    if (reconciling) return;
    reconciling = true;
    services.vmPools
      .reconcile()
      .catch((error) => log.error({ err: error }, 'keeping VM pools as configured failed'))
      .finally(() => (reconciling = false));
  }, config.poolReconcileIntervalMs);

  log.info({ apiUrl, grpcAddress }, 'controller started');
  return {
    apiUrl,
    grpcAddress,
    services,
    orm,
    generatedAdminPassword,
    async stop() {
      clearInterval(liveness);
      clearInterval(pools);
      await services.scheduler.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      hub.closeAll();
      await gateway.close();
      await services.records.settled();
      await orm.close();
    },
  };
}
