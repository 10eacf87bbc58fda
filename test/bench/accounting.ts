/**
 * Where the work of a run goes, per request: CPU of every process of the stack (from /proc/<pid>/stat),
 * of each Postgres backend grouped by its role (pg_stat_activity pids: one role per service), messages
 * in and out at nats-server (monitoring endpoint /varz), messages stored per JetStream stream (/jsz,
 * last sequence before and after), Postgres commits (pg_stat_database.xact_commit) and WAL bytes
 * (pg_current_wal_lsn difference). Read before and after a run and divided by the run's requests
 * (warm-up included, as the counters are). Limits, stated in docs/performance.md: a backend or process
 * that exits during the run takes its CPU with it; pg_stat_database is flushed by each backend at most
 * once a second, so commits of the last second of a run may land in the next; the bench's own
 * statistics queries (two per window) are subtracted from the commits.
 */
import { Client } from 'pg';
import { cpuSeconds, treeCpuSeconds } from './proc-stats';

export interface AccountingSources {
  /** Named processes to read CPU of (services, nats-server, load generator, echo responder). */
  readonly processes: Readonly<Record<string, number | undefined>>;
  /** The postmaster: total CPU of Postgres (backends and background workers). */
  readonly postgresPid?: number;
  /** A superuser URL of the stack's database: pg_stat_activity, pg_stat_database, WAL position. */
  readonly postgresUrl?: string;
  /** http://127.0.0.1:<port> of nats-server monitoring. */
  readonly natsMonitorUrl?: string;
}

interface Snapshot {
  readonly cpu: Record<string, number | null>;
  /** CPU seconds per backend pid, and the role it serves. */
  readonly backends: Map<number, { label: string; cpu: number }>;
  readonly postgresTotal: number | null;
  readonly nats: { inMsgs: number; outMsgs: number; inBytes: number; outBytes: number } | null;
  readonly streams: Record<string, { lastSeq: number; bytes: number }> | null;
  readonly pg: { commits: number; walLsn: string } | null;
}

/** Per request (µs of CPU, counts, bytes); null where a source is not available. */
export interface RequestAccounting {
  readonly requests: number;
  /** µs of CPU per request, per process (`PG <role>`: the backends of that role). */
  readonly cpuUs: Record<string, number | null>;
  /** µs of CPU per request of all Postgres processes: every backend and background worker, and the postmaster. */
  readonly postgresTotalUs: number | null;
  /** µs of CPU per request of every process above, Postgres counted once (its total). */
  readonly allCpuUs: number | null;
  readonly natsMsgsIn: number | null;
  readonly natsMsgsOut: number | null;
  readonly natsBytesIn: number | null;
  readonly natsBytesOut: number | null;
  /** JetStream messages (and bytes) stored per stream, per request; streams that stored nothing are left out. */
  readonly jetstream: Record<string, { msgs: number; bytes: number }> | null;
  readonly pgCommits: number | null;
  readonly walBytes: number | null;
}

const r1 = (x: number): number => Math.round(x * 10) / 10;
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** One label per Postgres backend: the service role (`ekm_keys` …), else its backend type. */
function labelOf(row: { usename: string | null; application_name: string | null; backend_type: string }): string {
  if (row.backend_type !== 'client backend') return 'PG background';
  const role = row.usename ?? 'unknown';
  return `PG ${role.startsWith('ekm_') ? role.slice(4) : role}`;
}

export class Accountant {
  private constructor(private readonly s: AccountingSources, private readonly pg: Client | null) {}

  static async open(s: AccountingSources): Promise<Accountant> {
    let pg: Client | null = null;
    if (s.postgresUrl) {
      pg = new Client({ connectionString: s.postgresUrl, application_name: 'ekm-bench-accounting' });
      await pg.connect();
    }
    return new Accountant(s, pg);
  }

  async close(): Promise<void> {
    await this.pg?.end().catch(() => undefined);
  }

  /** Names of the processes read, as they appear in the table. */
  get processNames(): string[] {
    return Object.keys(this.s.processes);
  }

  async snapshot(): Promise<Snapshot> {
    const cpu: Record<string, number | null> = {};
    for (const [name, pid] of Object.entries(this.s.processes)) cpu[name] = pid ? cpuSeconds(pid) : null;
    const backends = new Map<number, { label: string; cpu: number }>();
    let pg: Snapshot['pg'] = null;
    if (this.pg) {
      const rows = (await this.pg.query<{ pid: number; usename: string | null; application_name: string | null; backend_type: string }>(
        'SELECT pid, usename, application_name, backend_type FROM pg_stat_activity WHERE pid <> pg_backend_pid()')).rows;
      for (const r of rows) {
        const c = cpuSeconds(r.pid);
        if (c !== null) backends.set(r.pid, { label: labelOf(r), cpu: c });
      }
      const db = (await this.pg.query<{ commits: string; lsn: string }>(
        'SELECT xact_commit::text AS commits, pg_current_wal_lsn()::text AS lsn FROM pg_stat_database WHERE datname = current_database()')).rows[0];
      pg = { commits: Number(db.commits), walLsn: db.lsn };
    }
    const [nats, streams] = await Promise.all([this.varz(), this.jsz()]);
    return { cpu, backends, postgresTotal: this.s.postgresPid ? treeCpuSeconds(this.s.postgresPid) : null, nats, streams, pg };
  }

  private async monitor<T>(path: string): Promise<T | null> {
    if (!this.s.natsMonitorUrl) return null;
    try {
      const res = await fetch(`${this.s.natsMonitorUrl}${path}`);
      return res.ok ? (await res.json()) as T : null;
    } catch {
      return null;
    }
  }

  private async varz(): Promise<Snapshot['nats']> {
    const v = await this.monitor<{ in_msgs: number; out_msgs: number; in_bytes: number; out_bytes: number }>('/varz');
    return v ? { inMsgs: v.in_msgs, outMsgs: v.out_msgs, inBytes: v.in_bytes, outBytes: v.out_bytes } : null;
  }

  private async jsz(): Promise<Snapshot['streams']> {
    const j = await this.monitor<{ account_details?: { stream_detail?: { name: string; state: { last_seq: number; bytes: number } }[] }[] }>('/jsz?accounts=true&streams=true');
    if (!j) return null;
    const out: Record<string, { lastSeq: number; bytes: number }> = {};
    for (const a of j.account_details ?? []) for (const st of a.stream_detail ?? []) out[st.name] = { lastSeq: st.state.last_seq, bytes: st.state.bytes };
    return out;
  }

  /** What happened between `a` and `b`, divided by `requests`. */
  async between(a: Snapshot, b: Snapshot, requests: number): Promise<RequestAccounting> {
    const n = Math.max(1, requests);
    const us = (x: number | null | undefined, y: number | null | undefined): number | null => (x === null || x === undefined || y === null || y === undefined ? null : r1(((y - x) / n) * 1e6));
    const cpuUs: Record<string, number | null> = {};
    for (const name of Object.keys(this.s.processes)) cpuUs[name] = us(a.cpu[name], b.cpu[name]);
    // Backends: CPU since the first snapshot (a backend opened during the run counts from zero).
    const byLabel = new Map<string, number>();
    for (const [pid, after] of b.backends) {
      const before = a.backends.get(pid)?.cpu ?? 0;
      byLabel.set(after.label, (byLabel.get(after.label) ?? 0) + after.cpu - before);
    }
    for (const [label, sec] of [...byLabel].sort((x, y) => x[0].localeCompare(y[0]))) cpuUs[label] = r1((sec / n) * 1e6);
    // Summed over the processes alive at both ends, not over the postmaster's tree: a pooled connection
    // closed during the run would take its CPU out of a tree sum and make it negative.
    const postmasterUs = 0;
    const postgresTotalUs = this.pg ? r1(([...byLabel.values()].reduce((s, x) => s + x, 0) + Math.max(0, postmasterUs)) / n * 1e6) : null;
    const processUs = Object.keys(this.s.processes).map((k) => cpuUs[k]);
    const allCpuUs = processUs.some((x) => x === null) ? null : r1(processUs.reduce<number>((s, x) => s + (x ?? 0), 0) + (postgresTotalUs ?? 0));
    let jetstream: RequestAccounting['jetstream'] = null;
    if (a.streams && b.streams) {
      jetstream = {};
      for (const [name, after] of Object.entries(b.streams)) {
        const before = a.streams[name] ?? { lastSeq: 0, bytes: 0 };
        const msgs = after.lastSeq - before.lastSeq;
        if (msgs > 0) jetstream[name] = { msgs: r3(msgs / n), bytes: Math.round(Math.max(0, after.bytes - before.bytes) / n) };
      }
    }
    let pgCommits: number | null = null;
    let walBytes: number | null = null;
    if (a.pg && b.pg && this.pg) {
      // Our own statements commit too (autocommit): the one that read the first counter, and the next snapshot's activity query.
      pgCommits = r3(Math.max(0, b.pg.commits - a.pg.commits - 2) / n);
      const d = (await this.pg.query<{ d: string }>('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text AS d', [b.pg.walLsn, a.pg.walLsn])).rows[0].d;
      walBytes = Math.round(Number(d) / n);
    }
    const per = (x: number | undefined, y: number | undefined): number | null => (x === undefined || y === undefined ? null : r3((y - x) / n));
    return {
      requests, cpuUs, postgresTotalUs, allCpuUs,
      natsMsgsIn: per(a.nats?.inMsgs, b.nats?.inMsgs), natsMsgsOut: per(a.nats?.outMsgs, b.nats?.outMsgs),
      natsBytesIn: per(a.nats?.inBytes, b.nats?.inBytes), natsBytesOut: per(a.nats?.outBytes, b.nats?.outBytes),
      jetstream, pgCommits, walBytes,
    };
  }
}
