"""Signs requests with the providers' official SDKs, for the integration tests (tests/it).

Reads a JSON list of jobs on stdin and prints a JSON list of results, one per job:

  {"twilio": {"token": T, "url": U, "params": [[name, value], ...]}}
      -> {"signature": S}   the X-Twilio-Signature of a form POST (repeated names allowed)
  {"twilio": {"token": T, "url": U, "json": BODY}}
      -> {"url": U2, "signature": S}   U with bodySHA256 appended, and its signature
  {"stripe": {"secret": S, "payload": BODY, "timestamp": T}}
      -> {"header": H}   the Stripe-Signature value (stripe's WebhookSignature)
  {"standardwebhooks": {"secret": S, "id": I, "timestamp": T, "payload": BODY}}
      -> {"signature": S}   the webhook-signature value (standardwebhooks' Webhook.sign)

Timestamps are Unix seconds and may be left out for the current time. Payloads are text: both
SDKs sign the body as a string.
  Either twilio job with "algorithm": "HMAC_SHA256" (or "HMAC_SHA1") is signed the SharedKey
  way: T is then the SharedKey secret, and the result adds
      "settings": the X-Twilio-Webhooks-Signature-Settings value (key from "key", if given)
  {"slack": {"secret": S, "body": BODY, "timestamp": TS}}
      -> {"signature": SIG, "timestamp": TS}   X-Slack-Signature and X-Slack-Request-Timestamp;
         TS (unix seconds as text) defaults to now
"""

import json
import sys
import time
from datetime import datetime, timezone

import stripe
import standardwebhooks
from slack_sdk.signature import SignatureVerifier
from twilio.request_validator import RequestValidator, get_signature_algorithm


class Params:
    """Form parameters with repeated names, read the way Django's QueryDict is."""

    def __init__(self, pairs):
        self.pairs = pairs

    def __iter__(self):
        return iter([name for name, _ in self.pairs])

    def __bool__(self):
        return bool(self.pairs)

    def getlist(self, name):
        return [value for n, value in self.pairs if n == name]


def twilio(job):
    validator = RequestValidator(job["token"])
    algorithm = job.get("algorithm")
    result = {}
    if algorithm is not None:
        # Twilio sends this header with every SharedKey signature; the SDK only reads it.
        settings = "key=%s,algorithm=%s" % (job.get("key", "webhooks_sharedkey_test"), algorithm)
        assert get_signature_algorithm(settings) == algorithm
        result["settings"] = settings
    if "json" in job:
        separator = "&" if "?" in job["url"] else "?"
        url = job["url"] + separator + "bodySHA256=" + validator.compute_hash(job["json"])
        signature = validator.compute_signature(url, {}, algorithm)
        assert validator.validate(url, job["json"], signature, algorithm)
        result.update(url=url, signature=signature)
        return result
    params = Params(job["params"])
    signature = validator.compute_signature(job["url"], params, algorithm)
    result["signature"] = signature
    return result


def slack(job):
    verifier = SignatureVerifier(job["secret"])
    timestamp = job.get("timestamp") or str(int(time.time()))
    signature = verifier.generate_signature(timestamp=timestamp, body=job["body"])
    if "timestamp" not in job:
        assert verifier.is_valid(job["body"], timestamp, signature)
    return {"signature": signature, "timestamp": timestamp}


def stripe_sign(job):
    timestamp = job.get("timestamp", int(time.time()))
    header = stripe.WebhookSignature.generate_signature_header(
        job["payload"], job["secret"], timestamp=timestamp
    )
    # No tolerance: a job may sign at a fixed time in the past.
    stripe.WebhookSignature.verify_header(job["payload"], header, job["secret"], tolerance=None)
    return {"header": header}


def standardwebhooks_sign(job):
    timestamp = job.get("timestamp", int(time.time()))
    signature = standardwebhooks.Webhook(job["secret"]).sign(
        job["id"], datetime.fromtimestamp(timestamp, tz=timezone.utc), job["payload"]
    )
    # Not checked with the library's verify: it only accepts timestamps within 5 minutes of now.
    return {"signature": signature}


def main():
    jobs = json.load(sys.stdin)
    results = []
    for job in jobs:
        if "twilio" in job:
            results.append(twilio(job["twilio"]))
        elif "stripe" in job:
            results.append(stripe_sign(job["stripe"]))
        elif "standardwebhooks" in job:
            results.append(standardwebhooks_sign(job["standardwebhooks"]))
        elif "slack" in job:
            results.append(slack(job["slack"]))
        else:
            raise SystemExit("unknown job: %r" % (job,))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
