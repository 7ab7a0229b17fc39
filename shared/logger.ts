import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.DROVER_LOG_LEVEL ?? 'info' });
}
