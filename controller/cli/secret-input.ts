import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { CliError } from './cli-error.js';

/** The first line of standard input, without its line end. */
export async function secretFromStdin(): Promise<string> {
  const [line = ''] = (await text(process.stdin)).split(/\r?\n/, 1);
  return line;
}

/** Asks for a secret twice on the terminal, without echo, and answers it when both agree. */
export async function promptSecret(what: string): Promise<string> {
  if (!process.stdin.isTTY) throw new CliError(`standard input is not a terminal to ask for the ${what} on; give it on standard input with --password-stdin`);
  const first = await askHidden(`New ${what}: `);
  const second = await askHidden(`The ${what} again: `);
  if (first !== second) throw new CliError(`the two ${what}s differ; nothing changed`);
  return first;
}

async function askHidden(prompt: string): Promise<string> {
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const terminal = createInterface({ input: process.stdin, output: silent, terminal: true });
  process.stderr.write(prompt);
  try {
    return await new Promise<string>((resolve, reject) => {
      terminal.once('line', resolve);
      terminal.once('SIGINT', () => reject(new CliError('interrupted; nothing changed')));
      terminal.once('close', () => reject(new CliError('standard input ended; nothing changed')));
    });
  } finally {
    terminal.close();
    process.stderr.write('\n');
  }
}
