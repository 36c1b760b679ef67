// A stand-in for Stripe's API, enough for the worker's Checkout Session creation
// (docs/protocols.md §1.7): `POST /v1/checkout/sessions` answers as `mode` says —
//   'ok'    200 with a `cs_test_…` session and its `url`, the same session for a repeated
//           Idempotency-Key (as Stripe replays its stored answer);
//   'fail'  500 with a Stripe-shaped `api_error` (a transient failure the worker retries).
// Every request is recorded (method, path, Idempotency-Key, body, status answered).

import { createHash } from 'node:crypto';
import http from 'node:http';

export class StripeStub {
  static async start({ mode = 'ok' } = {}) {
    const stub = new StripeStub(mode);
    await new Promise((resolve, reject) => {
      stub.server.once('error', reject);
      stub.server.listen(0, '127.0.0.1', resolve);
    });
    stub.url = `http://127.0.0.1:${stub.server.address().port}`;
    return stub;
  }

  constructor(mode) {
    this.mode = mode;
    this.requests = [];
    this.sessions = new Map();
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  handle(req, res) {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const key = req.headers['idempotency-key'] ?? null;
      const record = { at: Date.now(), method: req.method, path: req.url, key, body, status: 0 };
      this.requests.push(record);
      const send = (status, json) => {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_stub_${this.requests.length}` });
        res.end(JSON.stringify(json));
      };
      if (!/^Bearer sk_test_/.test(req.headers.authorization ?? '')) {
        return send(401, { error: { type: 'invalid_request_error', message: 'stub: no test key' } });
      }
      if (req.method !== 'POST' || req.url !== '/v1/checkout/sessions') {
        return send(404, { error: { type: 'invalid_request_error', message: `stub: no route ${req.method} ${req.url}` } });
      }
      if (this.mode === 'fail') {
        return send(500, { error: { type: 'api_error', message: 'stub: Stripe is failing on purpose' } });
      }
      const params = new URLSearchParams(body);
      const session = this.sessions.get(key) ?? this.newSession(key, params);
      return send(200, session);
    });
  }

  newSession(key, params) {
    const id = `cs_test_${createHash('sha256').update(String(key)).digest('hex').slice(0, 24)}`;
    const session = {
      id,
      object: 'checkout.session',
      url: `https://checkout.stripe.test/c/pay/${id}`,
      status: 'open',
      payment_status: 'unpaid',
      client_reference_id: params.get('client_reference_id'),
      metadata: { order_id: params.get('metadata[order_id]') },
      expires_at: Number(params.get('expires_at')),
    };
    if (key) this.sessions.set(key, session);
    return session;
  }

  /** The Checkout Session requests made under `key`. */
  requestsFor(key) {
    return this.requests.filter((r) => r.key === key && r.path === '/v1/checkout/sessions');
  }

  async stop() {
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }
}
