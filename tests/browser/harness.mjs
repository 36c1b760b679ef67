// The whole system for one test file, run for real: a fresh Postgres database (migrated and
// seeded with shopwire-admin), shopwire-web, shopwire-worker and shopwire-console on free
// ports with a queue prefix of their own, and headless Chromium (Debian's, no download).
//
//   const stack = await Stack.start({ name: 'live', seed: async (s) => { await s.admin(...) } });
//   test('…', stack.check(async () => { const page = await stack.signedInPage('/live/x'); … }));
//   after(() => stack.stop());
//
// A failing `check` prints each process's log tail, and saves each open page's screenshot
// and HTML (the paths are printed). The processes are stopped at the end, on failure too,
// and killed if this test process dies first.
//
// Environment: DATABASE_URL (its server is used; default postgres://postgres@127.0.0.1:5432),
// REDIS_URL (default redis://127.0.0.1:6379), CARGO_TARGET_DIR, CHROMIUM_PATH
// (default /usr/bin/chromium), SHOPWIRE_BROWSER_KEEP=1 keeps the database and the logs.

import { spawn, execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { chromium } from 'playwright-core';

import { Psql, lit } from './psql.mjs';

export { lit };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGET = path.resolve(ROOT, process.env.CARGO_TARGET_DIR || 'target');
export const BIN = path.join(TARGET, 'debug');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** The console password every stack uses (a test value). */
export const PASSWORD = 'browser-test-password';
/** The comment relay's secret every stack uses (a test value). */
export const COMMENTS_SECRET = 'browser_test_comments_secret';

const execFileP = promisify(execFile);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `probe` until it returns something truthy (returned), or fail after `timeout` ms. */
export async function waitFor(what, probe, { timeout = 10_000, every = 25 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (e) {
      if (e.fatal) throw e;
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    }
    await sleep(every);
  }
}

/** A TCP port nobody listens on right now. */
async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** `url` with its database replaced by `db` (and its password hidden when `mask`). */
function withDatabase(url, db) {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

function mask(url) {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** Every process any stack started, killed if this test process dies before stopping them. */
const running = new Set();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const child of running) child.kill('SIGKILL');
    process.exit(128 + os.constants.signals[signal]);
  });
}

/** A started binary, its output in a log file. */
class Proc {
  constructor(name, args, env, logDir) {
    this.name = name;
    this.logPath = path.join(logDir, `${name}.log`);
    const log = fs.openSync(this.logPath, 'a');
    this.child = spawn(path.join(BIN, name), args, { env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.exit = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        running.delete(this.child);
        this.status = signal ?? code;
        resolve(this.status);
      });
      this.child.once('error', (e) => {
        running.delete(this.child);
        this.status = `could not start: ${e.message}`;
        resolve(this.status);
      });
    });
    this.stopping = false;
    running.add(this.child);
  }

  get alive() {
    return this.status === undefined;
  }

  tail(lines = 120) {
    let text = '';
    try {
      text = stripAnsi(fs.readFileSync(this.logPath, 'utf8'));
    } catch {
      return '(no log)';
    }
    const all = text.trimEnd().split('\n');
    return (all.length > lines ? [`… (${all.length - lines} earlier lines in ${this.logPath})`] : [])
      .concat(all.slice(-lines))
      .join('\n');
  }

  async stop() {
    if (!this.alive) return this.status;
    this.stopping = true;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    const status = await this.exit;
    clearTimeout(timer);
    return status;
  }
}

/** Run a shopwire binary to completion; its stdout, or an error with its stderr. */
async function runBinary(name, args, env) {
  try {
    const { stdout } = await execFileP(path.join(BIN, name), args, { env, maxBuffer: 16 << 20 });
    return stdout;
  } catch (e) {
    throw new Error(`${name} ${args.join(' ')} failed (${e.code ?? e.signal}): ${(e.stderr || e.message).trim()}`);
  }
}

/** `Shopwire-Signature` for `body` at unix time `t` (Stripe's scheme, docs/protocols.md §1.1 and §6). */
export function commentSignature(body, secret = COMMENTS_SECRET, t = Math.floor(Date.now() / 1000)) {
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

export class Stack {
  /**
   * Start everything. `seed(stack)` runs after the migration, before the services start;
   * `env` is added to every binary's environment (e.g. Stripe settings).
   */
  static async start({ name, seed, env = {} } = {}) {
    const stack = new Stack(name, env);
    try {
      await stack.boot(seed);
    } catch (e) {
      stack.report(`starting the ${name} stack`, e);
      await stack.stop({ quiet: true }).catch(() => {});
      throw e;
    }
    return stack;
  }

  constructor(name, extraEnv) {
    this.name = name;
    const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`;
    this.dbName = `shopwire_browser_${name}_${suffix}`;
    this.queuePrefix = `swbt-${name}-${suffix}`;
    const server = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
    this.adminUrl = withDatabase(server, 'postgres');
    this.databaseUrl = withDatabase(server, this.dbName);
    this.redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
    this.logDir = fs.mkdtempSync(path.join(os.tmpdir(), `shopwire-browser-${name}-`));
    this.extraEnv = extraEnv;
    this.procs = [];
    this.pages = new Set();
    this.dialogs = [];
    this.failed = false;
    this.created = false;
  }

  /** The environment every binary gets: nothing from the caller's Shopwire settings. */
  env(more = {}) {
    const keep = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ', 'RUST_BACKTRACE'];
    const base = Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
    return {
      ...base,
      APP_ENV: 'development',
      RUST_LOG: process.env.SHOPWIRE_BROWSER_RUST_LOG || 'info',
      NO_COLOR: '1',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redisUrl,
      QUEUE_PREFIX: this.queuePrefix,
      COMMENTS_WEBHOOK_SECRETS: COMMENTS_SECRET,
      CONSOLE_PASSWORD: PASSWORD,
      // Claims wait this long for earlier messages (docs/contract.md §9); kept short here.
      CLAIM_ORDER_WINDOW_MS: '50',
      QUEUE_POLL_INTERVAL_MS: '20',
      SHUTDOWN_GRACE_SECS: '2',
      ...this.extraEnv,
      ...more,
    };
  }

  async boot(seed) {
    this.adminDb = await Psql.open(this.adminUrl).catch((e) => {
      throw new Error(`cannot reach Postgres at ${mask(this.adminUrl)} with psql: ${e.message}`);
    });
    await this.adminDb.query(`create database "${this.dbName}"`);
    this.created = true;
    this.db = await Psql.open(this.databaseUrl);
    await this.admin('migrate');
    if (seed) await seed(this);

    const [webPort, workerPort, consolePort] = [await freePort(), await freePort(), await freePort()];
    this.webUrl = `http://127.0.0.1:${webPort}`;
    this.workerUrl = `http://127.0.0.1:${workerPort}`;
    this.consoleUrl = `http://127.0.0.1:${consolePort}`;
    const env = this.env({ PORT: String(webPort), WORKER_PORT: String(workerPort), CONSOLE_PORT: String(consolePort) });
    for (const bin of ['shopwire-web', 'shopwire-worker', 'shopwire-console']) {
      this.procs.push(new Proc(bin, [], env, this.logDir));
    }
    const [web, worker, consoleProc] = this.procs;
    await Promise.all([
      this.healthy(web, `${this.webUrl}/health`),
      this.healthy(worker, `${this.workerUrl}/health`),
      this.healthy(consoleProc, `${this.consoleUrl}/health`),
    ]);
    await this.healthy(web, `${this.webUrl}/ready`);
    // The console's live feed is one LISTEN connection; until it is up a claim would not
    // reach an open page (the page would only show it on its next load).
    await waitFor(
      "the console's LISTEN connection",
      async () => {
        this.assertRunning();
        return Number(await this.db.value(
          `select count(*) from pg_stat_activity where datname = current_database() and query ilike 'listen%'`,
        )) > 0;
      },
      { timeout: 20_000, every: 100 },
    );
    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }

  /** Wait until `url` answers 200, failing at once if `proc` exits meanwhile. */
  async healthy(proc, url) {
    await waitFor(
      `${proc.name} at ${url}`,
      async () => {
        if (!proc.alive) throw Object.assign(new Error(`${proc.name} exited with ${proc.status}`), { fatal: true });
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        return res.ok;
      },
      { timeout: 60_000, every: 100 },
    ).catch((e) => {
      if (!proc.alive) throw new Error(`${proc.name} exited with ${proc.status} during startup`);
      throw e;
    });
  }

  /** Throw if a service died (a crash mid-test is a failure of its own). */
  assertRunning() {
    const dead = this.procs.filter((p) => !p.alive && !p.stopping);
    if (dead.length) throw new Error(dead.map((p) => `${p.name} exited with ${p.status}`).join('; '));
  }

  /** `shopwire-admin ARGS… --json`, parsed. */
  async admin(...args) {
    const out = await runBinary('shopwire-admin', [...args, '--json'], this.env());
    return out.trim() ? JSON.parse(out) : null;
  }

  /** POST a live comment to the web, signed as the relay signs it; the web's JSON answer. */
  async sendComment({ streamer, buyer, message, commentId = `c-${randomBytes(6).toString('hex')}`, at = new Date() }) {
    const body = JSON.stringify({ comment_id: commentId, streamer, client: buyer, message, timestamp: at.toISOString() });
    const res = await fetch(`${this.webUrl}/webhooks/comments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'shopwire-signature': commentSignature(body) },
      body,
    });
    const answer = await res.json().catch(() => ({}));
    if (res.status !== 200 || answer.status !== 'accepted') {
      throw new Error(`POST /webhooks/comments answered ${res.status} ${JSON.stringify(answer)}`);
    }
    return { commentId, inboxId: answer.id };
  }

  /** The claim made from comment `commentId`, once it has an outcome (else null). */
  async decidedClaim(commentId) {
    const rows = await this.db.query(`
      select c.id, c.outcome, p.sku, o.order_number, (extract(epoch from c.decided_at) * 1000)::bigint
        from inbox i
        join messages m on m.inbox_id = i.id
        join claims c on c.message_id = m.id
        left join products p on p.id = c.product_id
        left join orders o on o.id = c.order_id
       where i.provider = 'comments' and i.dedupe_key = ${lit(commentId)} and c.outcome is not null`);
    if (!rows.length) return null;
    const [id, outcome, sku, orderNumber, decidedAt] = rows[0];
    return { id, outcome, sku, orderNumber, decidedAt: Number(decidedAt) };
  }

  /** A browser context signed in through the form (once; later contexts reuse the cookie). */
  async signedInContext() {
    if (!this.storageState) {
      const context = await this.browser.newContext();
      const page = await context.newPage();
      await page.goto(`${this.consoleUrl}/signin`);
      await page.fill('form#signin input[name=password]', PASSWORD);
      await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/signin')), page.click('form#signin [type=submit]')]);
      this.storageState = await context.storageState();
      await context.close();
    }
    return this.browser.newContext({ storageState: this.storageState });
  }

  /** A signed-in page at `pathname`; failures of `check` save what it shows. */
  async signedInPage(pathname) {
    const context = await this.signedInContext();
    const page = await this.track(await context.newPage());
    await page.goto(`${this.consoleUrl}${pathname}`);
    return page;
  }

  /** A page in a fresh, signed-out context. */
  async newPage() {
    const context = await this.browser.newContext();
    return this.track(await context.newPage());
  }

  async track(page) {
    this.pages.add(page);
    page.on('close', () => this.pages.delete(page));
    // `data-confirm` forms ask first (console.js): accept, and keep what was asked.
    page.on('dialog', (dialog) => {
      this.dialogs.push({ type: dialog.type(), message: dialog.message(), url: page.url() });
      dialog.accept().catch(() => {});
    });
    return page;
  }

  /**
   * A test body that, when it fails, prints the services' logs and saves the open pages,
   * and closes its pages either way.
   */
  check(fn) {
    return async (t) => {
      try {
        this.assertRunning();
        await fn(t);
        this.assertRunning();
      } catch (e) {
        this.failed = true;
        await this.savePages(t.name);
        this.report(t.name, e);
        throw e;
      } finally {
        for (const page of [...this.pages]) await page.context().close().catch(() => {});
      }
    };
  }

  async savePages(label) {
    const slug = label.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
    let i = 0;
    for (const page of this.pages) {
      i += 1;
      const base = path.join(this.logDir, `${slug}-${i}`);
      try {
        await page.screenshot({ path: `${base}.png`, fullPage: true, timeout: 5000 });
        fs.writeFileSync(`${base}.html`, await page.content());
        process.stderr.write(`  page ${page.url()} saved: ${base}.png, ${base}.html\n`);
      } catch (e) {
        process.stderr.write(`  page ${page.url()} could not be saved: ${e.message}\n`);
      }
    }
  }

  report(label, error) {
    const lines = [`\n===== ${this.name}: "${label}" failed: ${error?.message ?? error}`];
    lines.push(`database ${this.dbName}, queue prefix ${this.queuePrefix}, logs in ${this.logDir}`);
    for (const proc of this.procs) {
      lines.push(`----- ${proc.name} (${proc.alive ? 'running' : `exited ${proc.status}`}) -----`, proc.tail());
    }
    lines.push(`===== end of ${this.name} logs\n`);
    process.stderr.write(`${lines.join('\n')}\n`);
    this.keepLogs = true;
  }

  /** Stop the services and the browser, drop the database, remove the queue keys. */
  async stop({ quiet = false } = {}) {
    const problems = [];
    const early = this.procs.filter((p) => !p.alive && !p.stopping);
    if (early.length && !quiet) problems.push(...early.map((p) => `${p.name} exited early with ${p.status}`));
    await this.browser?.close().catch(() => {});
    const statuses = await Promise.all(this.procs.map(async (p) => [p, await p.stop()]));
    for (const [p, status] of statuses) {
      if (p.stopping && status !== 0 && !quiet) problems.push(`${p.name} stopped with ${status} after SIGTERM, not 0`);
    }
    const keep = process.env.SHOPWIRE_BROWSER_KEEP === '1';
    await this.db?.close().catch(() => {});
    if (this.created && !keep) {
      await this.adminDb.query(`drop database if exists "${this.dbName}" with (force)`).catch((e) => problems.push(e.message));
    }
    await this.adminDb?.close().catch(() => {});
    await this.dropQueueKeys().catch(() => {});
    if (problems.length && !quiet) {
      this.report('stopping', new Error(problems.join('; ')));
    }
    if (!this.keepLogs && !keep && !problems.length) fs.rmSync(this.logDir, { recursive: true, force: true });
    if (problems.length && !quiet) throw new Error(problems.join('; '));
  }

  /** Best effort: delete this stack's Redis keys (needs redis-cli). */
  async dropQueueKeys() {
    const { stdout } = await execFileP('redis-cli', ['-u', this.redisUrl, '--scan', '--pattern', `*${this.queuePrefix}*`]);
    const keys = stdout.split('\n').filter(Boolean);
    for (let i = 0; i < keys.length; i += 200) {
      await execFileP('redis-cli', ['-u', this.redisUrl, 'unlink', ...keys.slice(i, i + 200)]);
    }
    // apalis also lists every queue it has seen in one shared, unprefixed set.
    const registry = 'core:apalis:queues:list';
    const { stdout: listed } = await execFileP('redis-cli', ['-u', this.redisUrl, 'zrange', registry, '0', '-1']);
    const ours = listed.split('\n').filter((m) => m.startsWith(`${this.queuePrefix}:`));
    if (ours.length) await execFileP('redis-cli', ['-u', this.redisUrl, 'zrem', registry, ...ours]);
  }
}
