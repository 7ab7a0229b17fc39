import { writeSync } from 'node:fs';
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
 * Remembers command outcomes by command id in a JSON-lines file. `record`
 * resolves once the entry is written to the file, so it survives the agent
 * process at once; it reaches the disk a moment later, by an fdatasync in the
 * background that covers every entry written meanwhile. Only a crash of the
 * host itself in that moment can lose an entry, and such a crash also stops
 * the host's guests, so a command the controller sends again afterwards
 * converges to the state it asks for (see CommandExecutor).
 */
export class CommandJournal {
  private readonly outcomes = new Map<string, JournalEntry>();
  private linesInFile = 0;
  private writes: Promise<void> = Promise.resolve();
  private syncing?: Promise<void>;
  private syncAgain = false;

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
    await this.synced();
    await this.handle.close();
  }

  /** Resolves once every entry written so far has reached the disk. */
  async synced(): Promise<void> {
    while (this.syncing) await this.syncing;
  }

  private remember(entry: JournalEntry): void {
    this.outcomes.delete(entry.commandId);
    this.outcomes.set(entry.commandId, entry);
    while (this.outcomes.size > this.capacity) {
      const oldest = this.outcomes.keys().next().value as string;
      this.outcomes.delete(oldest);
    }
  }

  /** Appends synchronously: one small write costs less than a trip through libuv's thread pool, which queues behind libvirt calls. */
  private async append(entry: JournalEntry): Promise<void> {
    writeSync(this.handle.fd, `${JSON.stringify(entry)}\n`);
    this.linesInFile++;
    this.syncSoon();
    if (this.linesInFile > this.capacity * 2) await this.compact();
  }

  private syncSoon(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = this.handle
      .datasync()
      .catch(() => undefined)
      .then(() => {
        this.syncing = undefined;
        if (this.syncAgain) {
          this.syncAgain = false;
          this.syncSoon();
        }
      });
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
    await this.synced();
    await this.handle.close();
    this.handle = await open(this.file, 'a');
    this.linesInFile = this.outcomes.size;
  }
}
