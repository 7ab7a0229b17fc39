import { fdatasyncSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { CommandOutcome } from '../../shared/model.js';

interface JournalEntry {
  commandId: string;
  recordedAt: string;
  outcome: CommandOutcome;
}

export interface CommandJournalOptions {
  /** How many outcomes to remember; older ones are forgotten. */
  capacity?: number;
}

const fileName = 'command-journal.jsonl';

function parseEntry(line: string): JournalEntry | undefined {
  try {
    const entry = JSON.parse(line) as Partial<JournalEntry>;
    if (typeof entry.commandId === 'string' && entry.outcome && typeof entry.outcome.ok === 'boolean') return entry as JournalEntry;
  } catch {
    return undefined;
  }
  return undefined;
}

async function readEntries(file: string): Promise<JournalEntry[]> {
  try {
    const text = await readFile(file, 'utf8');
    return text.split('\n').flatMap((line) => parseEntry(line) ?? []);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * Remembers command outcomes by command id in a JSON-lines file, durably:
 * `record` resolves only after the entry reached the disk.
 */
export class CommandJournal {
  private readonly outcomes = new Map<string, JournalEntry>();
  private linesInFile = 0;
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly capacity: number,
    private handle: FileHandle,
  ) {}

  static async open(dataDir: string, options: CommandJournalOptions = {}): Promise<CommandJournal> {
    await mkdir(dataDir, { recursive: true });
    const file = path.join(dataDir, fileName);
    const capacity = options.capacity ?? 10_000;
    const entries = await readEntries(file);
    const journal = new CommandJournal(file, capacity, await open(file, 'a'));
    for (const entry of entries) journal.remember(entry);
    journal.linesInFile = entries.length;
    if (journal.linesInFile > capacity * 2) await journal.compact();
    return journal;
  }

  get size(): number {
    return this.outcomes.size;
  }

  get(commandId: string): CommandOutcome | undefined {
    return this.outcomes.get(commandId)?.outcome;
  }

  record(commandId: string, outcome: CommandOutcome): Promise<void> {
    const entry: JournalEntry = { commandId, recordedAt: new Date().toISOString(), outcome };
    this.remember(entry);
    const write = this.writes.then(() => this.append(entry));
    this.writes = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    await this.writes;
    await this.handle.close();
  }

  private remember(entry: JournalEntry): void {
    this.outcomes.delete(entry.commandId);
    this.outcomes.set(entry.commandId, entry);
    while (this.outcomes.size > this.capacity) {
      const oldest = this.outcomes.keys().next().value as string;
      this.outcomes.delete(oldest);
    }
  }

  /**
   * Appends and syncs synchronously: blocking the loop for one small write and
   * fdatasync costs less than two trips through libuv's thread pool, which
   * queue behind libvirt calls.
   */
  private async append(entry: JournalEntry): Promise<void> {
    writeSync(this.handle.fd, `${JSON.stringify(entry)}\n`);
    fdatasyncSync(this.handle.fd);
    this.linesInFile++;
    if (this.linesInFile > this.capacity * 2) await this.compact();
  }

  private async compact(): Promise<void> {
    const temporary = `${this.file}.tmp`;
    const rewritten = await open(temporary, 'w');
    try {
      const lines = [...this.outcomes.values()].map((entry) => `${JSON.stringify(entry)}\n`).join('');
      await rewritten.writeFile(lines);
      await rewritten.sync();
    } finally {
      await rewritten.close();
    }
    await rename(temporary, this.file);
    await this.handle.close();
    this.handle = await open(this.file, 'a');
    this.linesInFile = this.outcomes.size;
  }
}
