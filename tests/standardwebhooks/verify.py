#!/usr/bin/env python3
"""Verify one Standard Webhooks delivery with the official Python library.

    verify.py SECRET WEBHOOK_ID WEBHOOK_TIMESTAMP WEBHOOK_SIGNATURE < BODY

Exits 0 when the library accepts the delivery, 1 when it rejects it (wrong secret,
tampered body, stale timestamp, ...), and 2 on anything else (bad arguments, the library
missing), so a test never mistakes a broken verifier for a rejection.
"""

import sys


def main(argv):
    if len(argv) != 5:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    secret, webhook_id, timestamp, signature = argv[1:]
    try:
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError
    except ImportError as e:
        print(f"standardwebhooks is not installed ({e}); run scripts/test.sh", file=sys.stderr)
        return 2
    body = sys.stdin.buffer.read()
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": signature,
    }
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError as e:
        print(f"rejected: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as e:  # a broken verifier must not look like a rejection
        print(f"verifier error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(2)
