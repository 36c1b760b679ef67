// One long-lived `psql` session: a query costs a few milliseconds instead of the ~150 ms of
// starting psql each time, which matters when polling for the moment a claim is decided.
//
//   const db = await Psql.open(url);
//   const rows = await db.query(`select id, outcome from claims`);   // [['1', 'reserved']]
//   await db.close();
//
// Values come back as text (NULL as ''), one array per row. Queries run one at a time, in
// the order they were asked for. An SQL error rejects that query only; the session stays.

import { spawn } from 'node:child_process';

const FIELD = '\x1f';

/** `'text'` as an SQL string literal. */
export function lit(value) {
  return `'${String(value).replaceAll("'", "''")}'`;
}

export class Psql {
  /** Connect to `url` (psql must be on PATH). */
  static async open(url) {
    const db = new Psql(url);
    await db.query('select 1');
    return db;
  }

  constructor(url) {
    this.url = url;
    this.child = spawn(
      'psql',
      [url, '-X', '-q', '-t', '-A', '-F', FIELD, '-v', 'ON_ERROR_STOP=0', '-P', 'pager=off'],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PGCONNECT_TIMEOUT: '5' } },
    );
    this.out = '';
    this.err = '';
    this.chain = Promise.resolve();
    this.waiter = null;
    this.exited = null;
    this.child.stdout.setEncoding('utf8').on('data', (d) => {
      this.out += d;
      this.wake();
    });
    this.child.stderr.setEncoding('utf8').on('data', (d) => {
      this.err += d;
      this.wake();
    });
    this.child.on('error', (e) => {
      this.exited = `psql could not run: ${e.message}`;
      this.wake();
    });
    this.child.on('exit', (code) => {
      this.exited ??= `psql exited (${code}): ${this.err.trim()}`;
      this.wake();
    });
    this.child.stdin.on('error', () => {});
    this.seq = 0;
  }

  wake() {
    const w = this.waiter;
    if (w) w();
  }

  /** Run one statement; resolves to its rows, rejects with psql's error. */
  query(sql) {
    const run = this.chain.then(() => this.run(sql));
    this.chain = run.catch(() => {});
    return run;
  }

  /** The first row's first value, or `null` without rows. */
  async value(sql) {
    const rows = await this.query(sql);
    return rows.length ? rows[0][0] : null;
  }

  async run(sql) {
    if (this.exited) throw new Error(this.exited);
    const marker = `__psql_done_${++this.seq}__`;
    this.out = '';
    this.err = '';
    this.child.stdin.write(`${sql.trim().replace(/;$/, '')};\n\\echo ${marker}\n\\warn ${marker}\n`);
    while (!(this.out.includes(`${marker}\n`) && this.err.includes(`${marker}\n`))) {
      if (this.exited) throw new Error(this.exited);
      await new Promise((resolve) => {
        this.waiter = resolve;
      });
      this.waiter = null;
    }
    const out = this.out.slice(0, this.out.indexOf(`${marker}\n`));
    const err = this.err.slice(0, this.err.indexOf(`${marker}\n`)).trim();
    if (/^(ERROR|FATAL|psql:)/m.test(err)) throw new Error(`psql: ${err}\n  in: ${sql.trim()}`);
    return out
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split(FIELD));
  }

  async close() {
    if (this.exited) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end('\\q\n');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }
}
