/**
 * CPU time and memory of processes from /proc (Linux): utime+stime of a pid (and, for Postgres, of the
 * postmaster's children, the backends doing the work), VmHWM (peak RSS) and VmRSS.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux almost always). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface StatLine { ppid: number; cpuTicks: number }

function readStat(pid: number): StatLine | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: split after its closing parenthesis.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return { ppid: Number(rest[1]), cpuTicks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) used so far by `pid`, or null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  const s = readStat(pid);
  return s ? s.cpuTicks / clockTicks() : null;
}

/** CPU seconds of `pid` and all its descendants (Postgres: postmaster, backends, background workers). */
export function treeCpuSeconds(pid: number): number | null {
  const root = readStat(pid);
  if (!root) return null;
  const stats = new Map<number, StatLine>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readStat(Number(entry));
    if (s) stats.set(Number(entry), s);
  }
  const inTree = (p: number): boolean => {
    for (let cur: number | undefined = p, hops = 0; cur !== undefined && cur > 1 && hops < 8; hops++) {
      if (cur === pid) return true;
      cur = stats.get(cur)?.ppid;
    }
    return false;
  };
  let ticks = 0;
  for (const [p, s] of stats) if (inTree(p)) ticks += s.cpuTicks;
  return ticks / clockTicks();
}

/** VmHWM and VmRSS of `pid` in MiB, or null when it is gone. */
export function memoryMiB(pid: number): { peakRssMiB: number; rssMiB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { peakRssMiB: Math.round(kb('VmHWM') / 102.4) / 10, rssMiB: Math.round(kb('VmRSS') / 102.4) / 10 };
  } catch {
    return null;
  }
}

/** 1/5/15-minute load averages of the machine. */
export function loadAverage(): number[] {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return [];
  }
}
