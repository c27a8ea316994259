/** Spawns bench/sim-process.ts in its own Node process and hands back its URL and a stop(). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SimOptions } from '../src/sim/index.js';

export interface SimChild {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL('./sim-process.ts', import.meta.url));

export async function spawnSim(options: SimOptions, startTimeoutMs = 20_000): Promise<SimChild> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SCRIPT, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const hard = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(hard);
        resolve();
      });
      child.kill('SIGTERM');
    });
  // a crash of the bench itself must not leave the server running
  const onExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', onExit);

  try {
    const url = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const timer = setTimeout(() => reject(new Error(`sim did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
      lines.once('line', (line) => {
        clearTimeout(timer);
        const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)\s*$/.exec(line);
        if (m?.[1]) resolve(m[1]);
        else reject(new Error(`unexpected first line from sim: ${JSON.stringify(line)}`));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`sim exited before listening (code ${code}, signal ${signal})`));
      });
    });
    return { url, pid: child.pid, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
