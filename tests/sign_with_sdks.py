"""Signs requests with the providers' official SDKs, for the integration tests (tests/it/dev.rs).

Reads a JSON list of jobs on stdin and prints a JSON list of results, one per job:

  {"twilio": {"token": T, "url": U, "params": [[name, value], ...]}}
      -> {"signature": S}   the X-Twilio-Signature of a form POST (repeated names allowed)
  {"twilio": {"token": T, "url": U, "json": BODY}}
      -> {"url": U2, "signature": S}   U with bodySHA256 appended, and its signature
"""

import json
import sys

from twilio.request_validator import RequestValidator


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
    if "json" in job:
        separator = "&" if "?" in job["url"] else "?"
        url = job["url"] + separator + "bodySHA256=" + validator.compute_hash(job["json"])
        signature = validator.compute_signature(url, {})
        assert validator.validate(url, job["json"], signature)
        return {"url": url, "signature": signature}
    params = Params(job["params"])
    signature = validator.compute_signature(job["url"], params)
    return {"signature": signature}


def main():
    jobs = json.load(sys.stdin)
    results = []
    for job in jobs:
        if "twilio" in job:
            results.append(twilio(job["twilio"]))
        else:
            raise SystemExit("unknown job: %r" % (job,))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
