import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Session } from 'node:inspector/promises';

/**
 * Optional CPU profiling of one measured phase: when BENCH_CPU_PROF names a
 * directory, `profilePhase` records a V8 CPU profile of the phase's duration
 * (main thread only) into DIR/NAME.cpuprofile, readable by Chrome DevTools or
 * `node dist/bench/profile-summary.js FILE`.
 */
export async function profilePhase<T>(name: string, phase: () => Promise<T>): Promise<T> {
  const directory = process.env.BENCH_CPU_PROF;
  if (!directory) return phase();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await phase();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await mkdir(directory, { recursive: true });
    const file = path.join(directory, `${name}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    process.stdout.write(`CPU profile of ${name}: ${file}\n`);
  }
}

/** Node's arguments that make an agent process write a CPU profile of its whole life to BENCH_CPU_PROF, when it names a directory. */
export function agentProfileArguments(name: string): string[] {
  const directory = process.env.BENCH_CPU_PROF;
  return directory ? ['--cpu-prof', `--cpu-prof-dir=${directory}`, `--cpu-prof-name=agent-${name}-${Date.now()}.cpuprofile`] : [];
}
