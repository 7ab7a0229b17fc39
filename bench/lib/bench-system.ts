import { InProcessSystem, type InProcessSystemOptions } from '../../test/support/in-process-system.js';
import type { DatabaseKind } from '../../test/support/scratch-database.js';

/**
 * Starts an in-process system as every benchmark runs one: logs at info
 * level (BENCH_LOG_LEVEL) in files, as a production controller and agent
 * would log, and the directory kept after the run with BENCH_KEEP_TMP.
 */
export function startBenchSystem(database: DatabaseKind, label: string, options: Omit<InProcessSystemOptions, 'label'> = {}): Promise<InProcessSystem> {
  return InProcessSystem.start(database, { label: `bench-${label}`, logLevel: process.env.BENCH_LOG_LEVEL, keepDirectory: Boolean(process.env.BENCH_KEEP_TMP), ...options });
}
