/** CPU time of another process (the sim), from /proc on Linux; undefined elsewhere. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** user + system CPU ms of process `pid` so far (resolution: one clock tick, usually 10 ms). */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined || process.platform !== 'linux') return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the ")" that closes the command name: state is field 3, utime 14, stime 15
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return ((utime + stime) * 1000) / clockTicks();
  } catch {
    return undefined;
  }
}

/** Measures this process's and another's CPU over an interval, as shares of one core. */
export function cpuMeter(otherPid: number | undefined): () => { wallMs: number; selfCpu: number; selfCpuMs: number; otherCpu: number | null } {
  const wall0 = performance.now();
  const self0 = process.cpuUsage();
  const other0 = processCpuMs(otherPid);
  return () => {
    const wallMs = performance.now() - wall0;
    const c = process.cpuUsage(self0);
    const selfCpuMs = (c.user + c.system) / 1000;
    const other1 = processCpuMs(otherPid);
    return {
      wallMs,
      selfCpuMs,
      selfCpu: selfCpuMs / wallMs,
      otherCpu: other0 !== undefined && other1 !== undefined ? (other1 - other0) / wallMs : null,
    };
  };
}
