import { readFileSync } from 'node:fs';

/**
 * Summarizes a V8 .cpuprofile: self time by package (or dist folder) and by
 * function, and inclusive time of selected functions. Usage:
 *   node dist/bench/profile-summary.js FILE [TOP]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArgument] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node dist/bench/profile-summary.js FILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const top = Number(topArgument ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

function owner(url: string, functionName: string): string {
  if (!url) return functionName || '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const own = /dist\/((?:[^/]+\/)?[^/]+)\//.exec(url);
  return own ? own[1]! : url;
}

const selfByNode = new Map<number, number>();
let total = 0;
profile.samples.forEach((id, index) => {
  const delta = profile.timeDeltas[index] ?? 0;
  selfByNode.set(id, (selfByNode.get(id) ?? 0) + delta);
  total += delta;
});

const byOwner = new Map<string, number>();
const byFunction = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, time] of selfByNode) {
  const { callFrame } = nodes.get(id)!;
  const where = owner(callFrame.url, callFrame.functionName);
  byOwner.set(where, (byOwner.get(where) ?? 0) + time);
  const name = `${callFrame.functionName || '(anonymous)'} [${where}:${callFrame.lineNumber + 1}]`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + time);
  // Inclusive time per owner: count each owner once per sample stack.
  const seen = new Set<string>();
  for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor)) {
    const frame = nodes.get(cursor)!.callFrame;
    const key = owner(frame.url, frame.functionName);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + time);
  }
}

const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`--- ${title}\n`);
  for (const [key, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${(time / 1000).toFixed(0).padStart(8)} ms ${((100 * time) / total).toFixed(1).padStart(5)}%  ${key}\n`);
  }
};
process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n`);
print('self time by package or folder', byOwner);
print('inclusive time by package or folder (on the stack)', inclusive);
print('self time by function', byFunction);
