#!/usr/bin/env node
import { Command } from 'commander';
import { adminCommand } from './cli/admin.js';
import { CliError } from './cli/cli-error.js';
import { enrollmentTokenCommand, hostCertificatesCommand } from './cli/enrollment.js';

/**
 * `drover`, the operator's command-line tool. It works on the controller's
 * database directly, configured by the controller's environment
 * (DROVER_DATA_DIR, DROVER_DATABASE_URL), so it works whether the
 * controller runs or not. Each command group is a file in controller/cli/
 * that exports a Command, added here.
 */
const program = new Command('drover').description("Drover's command-line tool: works on the controller's database, running or not").addCommand(adminCommand())
  .addCommand(enrollmentTokenCommand())
  .addCommand(hostCertificatesCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`drover: ${error instanceof CliError ? error.message : String(error instanceof Error ? (error.stack ?? error.message) : error)}\n`);
  process.exitCode = 1;
});
