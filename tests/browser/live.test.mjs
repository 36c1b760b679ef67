// The seller console's sign-in and live page in a real browser, against the real web,
// worker and console (docs/contract.md §9, §11): a comment signed as the relay signs it goes
// through the web and the worker and shows up on the open page by itself.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { PASSWORD, Stack, waitFor } from './harness.mjs';

const STREAMER = 'bt_streamer';
const RED = 'BT-CAP-RED';
const BLUE = 'BT-TEE-BLU';
const BUDGET_MS = 1000;

let stack;

before(async () => {
  stack = await Stack.start({
    name: 'live',
    seed: async (s) => {
      await s.admin('inventory', 'set', RED, '--title', 'Red corduroy cap', '--price', '19.99', '--stock', '20');
      await s.admin('inventory', 'set', BLUE, '--title', 'Blue pocket tee', '--price', '24.99', '--stock', '20');
      await s.admin('live', 'add', '--streamer', STREAMER, '--sku', RED, '--code', 'A1');
      await s.admin('live', 'add', '--streamer', STREAMER, '--sku', BLUE, '--code', 'A2');
      await s.admin('live', 'pin', '--streamer', STREAMER, '--sku', RED);
    },
  });
}, { timeout: 180_000 });

after(async () => {
  await stack?.stop();
}, { timeout: 60_000 });

/**
 * Record, in the page, when each claim row first appears in `#claims` (keyed by buyer):
 * the time it was inserted and the start of the next frame that paints it.
 */
async function watchClaims(page) {
  await page.evaluate(() => {
    window.__claimsSeen = {};
    const record = (row) => {
      const buyer = row.querySelector('td.buyer')?.textContent.trim();
      if (!buyer || window.__claimsSeen[buyer]) return;
      const seen = {
        insertedAt: Date.now(),
        outcome: row.getAttribute('data-outcome'),
        sku: row.querySelector('td.sku')?.textContent.trim(),
      };
      window.__claimsSeen[buyer] = seen;
      requestAnimationFrame(() => {
        seen.paintedAt = Date.now();
      });
    };
    new MutationObserver((mutations) => {
      for (const m of mutations) {
        for (const node of m.addedNodes) {
          if (node.nodeType === 1 && node.matches('tr.claim')) record(node);
        }
      }
    }).observe(document.getElementById('claims'), { childList: true });
  });
}

/** What `watchClaims` saw for `buyer`, once it has been painted. */
async function shownClaim(page, buyer, timeout = 10_000) {
  const handle = await page.waitForFunction((b) => window.__claimsSeen?.[b]?.paintedAt && window.__claimsSeen[b], buyer, {
    timeout,
  });
  return handle.jsonValue();
}

function claimRow(page, buyer) {
  return page
    .locator('#claims tr.claim')
    .filter({ has: page.locator('td.buyer', { hasText: new RegExp(`^\\s*${buyer}\\s*$`) }) });
}

/** Mark the page's window; the mark survives only if the page is never reloaded. */
async function markWindow(page) {
  return page.evaluate(() => {
    window.__shopwireMark = `mark-${Math.random().toString(36).slice(2)}`;
    return window.__shopwireMark;
  });
}

async function assertNotReloaded(page, mark) {
  const { navigations, kept } = await page.evaluate(() => ({
    navigations: performance.getEntriesByType('navigation').length,
    kept: window.__shopwireMark,
  }));
  assert.equal(navigations, 1, 'the page navigated again');
  assert.equal(kept, mark, 'the page was reloaded (its window mark is gone)');
}

describe('seller console: sign-in and the live page', () => {
  test('signing in with a wrong password shows why and keeps you out; the right one opens the live page', { timeout: 90_000 }, (t) =>
    stack.check(async (t) => {
      const page = await stack.newPage();
      await page.goto(`${stack.consoleUrl}/live/${STREAMER}`);
      assert.equal(new URL(page.url()).pathname, '/signin', 'a signed-out visit to a live page goes to sign-in');

      await page.fill('form#signin input[name=password]', 'not-the-password');
      const [refused] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/signin' && r.request().method() === 'POST'),
        page.click('form#signin [type=submit]'),
      ]);
      assert.equal(refused.status(), 401);
      const why = (await page.locator('#error').textContent({ timeout: 5000 })).trim();
      assert.ok(why.length > 0, '#error says why');
      t.diagnostic(`wrong password: "${why}"`);
      const cookies = await page.context().cookies();
      assert.equal(
        cookies.find((c) => c.name === 'shopwire_console'),
        undefined,
        'no session cookie after a wrong password',
      );

      await page.goto(`${stack.consoleUrl}/live/${STREAMER}`);
      assert.equal(new URL(page.url()).pathname, '/signin', 'still kept out of the live page');

      await page.fill('form#signin input[name=password]', PASSWORD);
      await Promise.all([page.waitForURL(`**/live/${STREAMER}`), page.click('form#signin [type=submit]')]);
      await page.locator(`#live[data-streamer="${STREAMER}"]`).waitFor({ timeout: 5000 });
      await page.locator('body[data-feed="connected"]').waitFor({ timeout: 5000 });
      const session = (await page.context().cookies()).find((c) => c.name === 'shopwire_console');
      assert.ok(session, 'signed in: a session cookie');
      assert.equal(session.httpOnly, true, 'the session cookie is HttpOnly');
      assert.equal(session.sameSite, 'Strict', 'the session cookie is SameSite=Strict');
    })(t));

  test('a signed comment appears on the open live page as reserved within 1 s of its claim being decided, without a reload', { timeout: 90_000 }, (t) =>
    stack.check(async () => {
      const page = await stack.signedInPage(`/live/${STREAMER}`);
      await page.locator('body[data-feed="connected"]').waitFor({ timeout: 10_000 });
      const mark = await markWindow(page);
      await watchClaims(page);

      const figures = [];
      for (const [i, message] of ["I'll take it!", 'mine!', 'me quiero ese'].entries()) {
        const buyer = `bt_fast_${i + 1}`;
        const posted = Date.now();
        const { commentId } = await stack.sendComment({ streamer: STREAMER, buyer, message });
        // The claim's commit, as near as it can be seen: the first read that finds its outcome.
        const claim = await waitFor(`the claim of ${commentId} in Postgres`, () => stack.decidedClaim(commentId), {
          timeout: 15_000,
          every: 10,
        });
        const decidedSeen = Date.now();
        assert.equal(claim.outcome, 'reserved', `${buyer}'s claim is reserved in Postgres`);
        assert.equal(claim.sku, RED, 'the pinned item is claimed');

        const shown = await shownClaim(page, buyer);
        assert.equal(shown.outcome, 'reserved', `${buyer}'s row says reserved`);
        assert.equal(shown.sku, RED);
        const row = claimRow(page, buyer);
        assert.equal(await row.count(), 1, `one row for ${buyer}`);
        assert.equal(await row.getAttribute('data-outcome'), 'reserved');

        const figure = {
          buyer,
          afterSeenDecided: shown.paintedAt - decidedSeen,
          afterDecidedAt: shown.paintedAt - claim.decidedAt,
          afterPost: shown.paintedAt - posted,
        };
        figures.push(figure);
        t.diagnostic(
          `time to screen (${buyer}, "${message}"): ${figure.afterSeenDecided} ms after psql first saw the outcome ` +
            `(${figure.afterDecidedAt} ms after the claim's decided_at, ${figure.afterPost} ms after the POST)`,
        );
        assert.ok(
          figure.afterSeenDecided <= BUDGET_MS,
          `${buyer}'s row was painted ${figure.afterSeenDecided} ms after its claim was decided (budget ${BUDGET_MS} ms)`,
        );
      }
      const worst = Math.max(...figures.map((f) => f.afterSeenDecided));
      t.diagnostic(`time to screen, worst of ${figures.length}: ${worst} ms (budget ${BUDGET_MS} ms)`);
      await assertNotReloaded(page, mark);
    })(t));

  test('pinning another item from the page makes the next bare "mine!" claim the new item', { timeout: 90_000 }, (t) =>
    stack.check(async () => {
      const page = await stack.signedInPage(`/live/${STREAMER}`);
      await page.locator('body[data-feed="connected"]').waitFor({ timeout: 10_000 });
      assert.equal((await page.locator('#pinned .pinned-sku').textContent()).trim(), RED, `${RED} is pinned at first`);

      await page.selectOption('form#pin-form select[name=sku]', BLUE);
      await Promise.all([page.waitForURL(/[?&]done=/), page.click('form#pin-form [type=submit]')]);
      await page.locator('body[data-feed="connected"]').waitFor({ timeout: 10_000 });
      assert.equal((await page.locator('#pinned .pinned-sku').textContent()).trim(), BLUE, `${BLUE} is pinned now`);
      const flash = (await page.locator('#flash').textContent()).trim();
      assert.match(flash, new RegExp(BLUE), '#flash names the pinned item');
      const available = page.locator(`#stock tr[data-sku="${BLUE}"] td.available`);
      const before = Number((await available.textContent()).trim());

      const mark = await markWindow(page);
      await watchClaims(page);
      const buyer = 'bt_pin_buyer';
      const { commentId } = await stack.sendComment({ streamer: STREAMER, buyer, message: 'mine!' });
      const shown = await shownClaim(page, buyer, 15_000);
      assert.equal(shown.sku, BLUE, 'the bare "mine!" claimed the newly pinned item');
      assert.equal(shown.outcome, 'reserved');
      assert.equal((await claimRow(page, buyer).locator('td.sku').textContent()).trim(), BLUE);
      const claim = await stack.decidedClaim(commentId);
      assert.equal(claim?.sku, BLUE, 'Postgres agrees with the page');

      // The panel follows too: one fewer available.
      await waitFor(
        `${BLUE}'s available count to drop to ${before - 1}`,
        async () => Number((await available.textContent()).trim()) === before - 1,
        { timeout: 5000, every: 50 },
      );
      await assertNotReloaded(page, mark);
    })(t));
});
