import { pino, type Logger } from 'pino';

export type { Logger };

/** Where secrets sit in what Drover logs: a command's cloud-init password. */
const secretPaths = ['command.spec.cloudInit.rootPassword', 'spec.cloudInit.rootPassword'];

export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.DROVER_LOG_LEVEL ?? 'info', redact: { paths: secretPaths, censor: '[secret]' } });
}
