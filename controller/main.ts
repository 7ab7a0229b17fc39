import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '../shared/logger.js';
import { configFromEnvironment, type ControllerConfig } from './config.js';
import { startController, type RunningController } from './controller.js';
import { adminUserName } from './services/auth.js';

const log = createLogger('drover-controller');

/** Starts the embedded agent, enrolling it through the same path as any agent (a one-time token) when it holds no certificate yet. */
async function startEmbeddedAgent(controller: RunningController, dataDir: string): Promise<ChildProcess> {
  const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../agent/main.js');
  const agentDataDir = process.env.DROVER_AGENT_DATA_DIR || path.join(dataDir, 'agent');
  const enrolled = existsSync(path.join(agentDataDir, 'host.pem'));
  const token = enrolled ? undefined : (await controller.services.enrollment.createToken({ description: 'the embedded agent', lifetimeMs: 10 * 60_000 })).token;
  return spawn(process.execPath, [entry], {
    stdio: 'inherit',
    env: {
      ...process.env,
      DROVER_CONTROLLER: controller.grpcAddress,
      DROVER_AGENT_DATA_DIR: agentDataDir,
      DROVER_LIBVIRT_URI: process.env.DROVER_LIBVIRT_URI || 'test:///default',
      ...(token ? { DROVER_ENROLLMENT_TOKEN: token } : {}),
    },
  });
}

/** The banner's lines on the API's certificate: which file clients trust it with, where to fetch that file, and a first request. */
function howToTrust(config: ControllerConfig, controller: RunningController): string {
  const vms = `${controller.apiUrl}/vms`;
  if (config.apiTls.kind === 'off') return `The API is plain HTTP (DROVER_API_TLS=off).\nExample: curl -u '${adminUserName}:PASSWORD' ${vms}\n`;
  if (config.apiTls.kind === 'given') return `The API presents the certificate in ${config.apiTls.certificateFile} (DROVER_TLS_CERT); clients trust its issuer.\nExample: curl -u '${adminUserName}:PASSWORD' ${vms}\n`;
  const caFile = config.givenCa?.certificateFile ?? path.join(config.dataDir, 'pki', 'ca.pem');
  const origin = new URL(controller.apiUrl).origin;
  return (
    `The API's certificate is signed by Drover's CA: ${caFile} (SHA-256 fingerprint ${new X509Certificate(controller.ca.certificatePem).fingerprint256}).\n` +
    `Clients trust that file. Elsewhere, fetch it with curl -k -o drover-ca.pem '${origin}/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA' (or ${origin}/ca.crt) and check its fingerprint (openssl x509 -noout -fingerprint -sha256 -in drover-ca.pem).\n` +
    `Example: curl --cacert ${caFile} -u '${adminUserName}:PASSWORD' ${vms}\n`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'embedded-agent': { type: 'boolean', default: false } } });
  const config = configFromEnvironment();
  const controller = await startController(config, log);
  const agent = values['embedded-agent'] ? await startEmbeddedAgent(controller, config.dataDir) : undefined;

  const login = controller.generatedAdminPassword
    ? `user ${adminUserName}, password ${controller.generatedAdminPassword} (generated now and shown only once; set DROVER_ADMIN_PASSWORD to choose one)`
    : `user ${adminUserName} with the password set by DROVER_ADMIN_PASSWORD, generated at first start, or set with drover admin password`;
  process.stdout.write(`\nDrover API: ${controller.apiUrl}\nLog in as ${login}\n${howToTrust(config, controller)}${agent ? 'An embedded agent drives the libvirt test driver.\n' : ''}Stop with Ctrl-C.\n\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    if (agent && agent.exitCode === null) {
      const exited = new Promise((resolve) => agent.once('exit', resolve));
      agent.kill('SIGTERM');
      await exited;
    }
    await controller.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  agent?.on('exit', (code, signal) => {
    if (!stopping) log.error({ code, signal }, 'the embedded agent exited');
  });
}

main().catch((error: unknown) => {
  log.fatal({ err: error }, 'the controller could not start');
  process.exit(1);
});
