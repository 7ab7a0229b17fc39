import { createLogger } from '../shared/logger.js';
import { Agent } from './agent.js';
import { configFromEnvironment } from './config.js';

const logger = createLogger('drover-agent');

async function main(): Promise<void> {
  const agent = new Agent(configFromEnvironment(), { logger });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    agent.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await agent.start();
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'the agent could not start');
  process.exit(1);
});
