// The Queues page replays real dead jobs (docs/contract.md §4, §11): a Checkout Session that
// Stripe (a stub here) refuses until the job has used its attempts lands in the DLQ; once
// Stripe answers again, Replay on the page (one job, or all of them after a confirmation)
// sends the same request again and the order gets its checkout URL.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Stack, lit, waitFor } from './harness.mjs';
import { StripeStub } from './stripe-stub.mjs';

const STREAMER = 'bt_dlq_streamer';
const SKU = 'BT-JKT-DNM';
const MAX_ATTEMPTS = 2;

let stack;
let stripe;

before(async () => {
  stripe = await StripeStub.start({ mode: 'ok' });
  stack = await Stack.start({
    name: 'queues',
    env: {
      STRIPE_SECRET_KEY: 'sk_test_browser_stub',
      STRIPE_API_BASE: stripe.url,
      CHECKOUT_SUCCESS_URL: 'https://shop.example/thanks?session={CHECKOUT_SESSION_ID}',
      // A job is dead after two failed attempts, retried within a fraction of a second.
      JOB_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      JOB_BACKOFF_BASE_MS: '50',
      JOB_BACKOFF_MAX_MS: '200',
    },
    seed: async (s) => {
      await s.admin('inventory', 'set', SKU, '--title', 'Denim chore jacket', '--price', '79.99', '--stock', '5');
      await s.admin('live', 'pin', '--streamer', STREAMER, '--sku', SKU);
    },
  });
}, { timeout: 180_000 });

after(async () => {
  await stack?.stop();
  await stripe?.stop();
}, { timeout: 60_000 });

/** The open (not replayed) dead checkout job of `orderNumber`. */
async function deadCheckoutJob(orderNumber) {
  const rows = await stack.db.query(`
    select d.id, d.attempts, d.last_error, j.id
      from dead_jobs d
      join jobs j on j.id = d.job_id
      join orders o on o.id = j.subject_id
     where d.queue = 'checkout' and d.replayed_at is null and o.order_number = ${lit(orderNumber)}`);
  if (!rows.length) return null;
  const [id, attempts, lastError, jobId] = rows[0];
  return { id, attempts: Number(attempts), lastError, jobId };
}

/** The Checkout Session requests the stub received for `orderNumber`. */
function sessionRequests(orderNumber) {
  return stripe.requests.filter(
    (r) => r.path === '/v1/checkout/sessions' && new URLSearchParams(r.body).get('client_reference_id') === orderNumber,
  );
}

/** A reserved claim whose checkout job Stripe fails until it is dead; its order and dead job. */
async function deadCheckout(t, buyer) {
  stripe.mode = 'fail';
  const { commentId } = await stack.sendComment({ streamer: STREAMER, buyer, message: 'mine!' });
  const claim = await waitFor(`the claim of ${commentId}`, () => stack.decidedClaim(commentId), { timeout: 15_000 });
  assert.equal(claim.outcome, 'reserved');
  assert.ok(claim.orderNumber, 'the claim made an order');
  const dead = await waitFor(`${claim.orderNumber}'s checkout job in the DLQ`, () => deadCheckoutJob(claim.orderNumber), {
    timeout: 30_000,
    every: 100,
  });
  assert.equal(dead.attempts, MAX_ATTEMPTS, `dead after JOB_MAX_ATTEMPTS=${MAX_ATTEMPTS}`);
  assert.match(dead.lastError, /500/, 'the last error is Stripe’s 500');
  const failed = sessionRequests(claim.orderNumber);
  assert.equal(failed.length, MAX_ATTEMPTS, 'Stripe was asked once per attempt');
  assert.ok(failed.every((r) => r.status === 500));
  t.diagnostic(`dead job ${dead.id} (job ${dead.jobId}, ${claim.orderNumber}): ${dead.lastError}`);
  return { orderNumber: claim.orderNumber, dead };
}

/** Submit `form` on `page` and wait for the page it leads to; that page's `#flash` text. */
async function submitForFlash(page, submit) {
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.request().frame() === page.mainFrame()),
    submit.click(),
  ]);
  await page.waitForLoadState('load');
  const flash = page.locator('#flash');
  await flash.waitFor({ timeout: 5000 });
  assert.equal(await page.locator('#error').count(), 0, 'no error on the page');
  return (await flash.textContent()).trim();
}

/** `orderNumber` got a checkout URL by a replayed attempt that sent the same request again. */
async function assertCheckedOutAfterReplay(t, orderNumber, dead) {
  const url = await waitFor(
    `${orderNumber} to get its checkout URL`,
    () => stack.db.value(`select checkout_url from orders where order_number = ${lit(orderNumber)} and checkout_url <> ''`),
    { timeout: 15_000, every: 50 },
  );
  const requests = sessionRequests(orderNumber);
  const last = requests.at(-1);
  assert.equal(requests.length, MAX_ATTEMPTS + 1, 'one more request, by the replay');
  assert.equal(last.status, 200, 'the replayed attempt was answered with a session');
  assert.equal(url, stripe.sessions.get(last.key).url, 'the order holds the session Stripe answered');
  assert.ok(
    requests.every((r) => r.key === last.key && r.body === last.body),
    'the replay sent the same request under the same Idempotency-Key',
  );
  const [[status, replayedAt]] = await stack.db.query(
    `select j.status, d.replayed_at from dead_jobs d join jobs j on j.id = d.job_id where d.id = ${Number(dead.id)}`,
  );
  assert.equal(status, 'processed', 'the job is processed');
  assert.ok(replayedAt, 'the dead job is marked replayed');
  t.diagnostic(`${orderNumber} checkout URL after replay: ${url}`);
}

describe('seller console: queues', () => {
  test('replaying a dead checkout job from the Queues page succeeds once Stripe answers again', { timeout: 90_000 }, (t) =>
    stack.check(async () => {
      const { orderNumber, dead } = await deadCheckout(t, 'bt_dlq_buyer');

      stripe.mode = 'ok';
      const page = await stack.signedInPage('/queues');
      const row = page.locator(`tr.dead-job[data-id="${dead.id}"]`);
      if ((await row.count()) === 0) {
        const listed = await page.locator('tr.dead-job').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
        assert.fail(
          `/queues has no tr.dead-job[data-id="${dead.id}"] (dead_jobs.id of ${orderNumber}'s checkout job); ` +
            `tr.dead-job rows listed: ${JSON.stringify(listed)}`,
        );
      }
      const replay = row.locator('form.replay [type=submit]');
      assert.equal(await replay.count(), 1, `the dead job's row has one form.replay submit button`);
      const said = await submitForFlash(page, replay);
      t.diagnostic(`#flash after replay: "${said}"`);
      assert.match(said, /replayed/i, '#flash reports the replay');

      await assertCheckedOutAfterReplay(t, orderNumber, dead);
    })(t));

  test('replay all asks first, then replays every dead job once Stripe answers again', { timeout: 90_000 }, (t) =>
    stack.check(async () => {
      const { orderNumber, dead } = await deadCheckout(t, 'bt_dlq_buyer_2');

      stripe.mode = 'ok';
      const page = await stack.signedInPage('/queues');
      await page.locator(`tr.dead-job[data-id="${dead.id}"]`).waitFor({ timeout: 5000 });
      const replayAll = page.locator('form[data-confirm] [type=submit]');
      assert.equal(await replayAll.count(), 1, 'one replay-all form, with data-confirm');
      const asked = stack.dialogs.length;
      const said = await submitForFlash(page, replayAll);
      t.diagnostic(`#flash after replay all: "${said}"`);
      assert.equal(stack.dialogs.length, asked + 1, 'the page asked before replaying everything');
      assert.equal(stack.dialogs.at(-1).type, 'confirm');
      assert.ok(stack.dialogs.at(-1).message.length > 0, 'the question says what will happen');
      t.diagnostic(`asked: "${stack.dialogs.at(-1).message}"`);
      assert.match(said, /replayed/i, '#flash reports the replay');

      await assertCheckedOutAfterReplay(t, orderNumber, dead);
    })(t));
});
