import { Command } from 'commander';
import { controlCharacters } from '../api/input/fields.js';
import { adminUserName, setAdminPassword } from '../services/auth.js';
import { CliError } from './cli-error.js';
import { withDatabase } from './database.js';
import { promptSecret, secretFromStdin } from './secret-input.js';

/** `drover admin password`: creates the first administrator, or resets its password. */
export function adminCommand(): Command {
  const admin = new Command('admin').description(`the first administrator, ${adminUserName}`);
  admin
    .command('password')
    .description(`creates ${adminUserName} with a new password, or gives it a new one; the password is asked on the terminal without echo, never taken from the command line`)
    .option('--password-stdin', 'read the password from the first line of standard input instead of asking')
    .action(async (options: { passwordStdin?: boolean }) => {
      const password = options.passwordStdin ? await secretFromStdin() : await promptSecret('password');
      if (password === '') throw new CliError('the password is empty; nothing changed');
      if (controlCharacters.test(password)) throw new CliError('the password has control characters, which no login accepts; nothing changed');
      await withDatabase((orm) => setAdminPassword(orm, password));
      process.stdout.write(`The password of ${adminUserName} is set. A running controller may accept the old one for up to a minute more.\n`);
    });
  return admin;
}
