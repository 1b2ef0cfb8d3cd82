"""One AWS API call through boto3, for the integration tests.

Usage: python tests/boto_call.py < {"service": ..., "operation": ..., "params": {...}}

Prints the response as JSON (times as text). The endpoint, region and
credentials come from the environment (AWS_ENDPOINT_URL: the moto server).

Why not the Rust SDK: it speaks Smithy RPC v2 CBOR to CloudWatch, which moto
5.2.5 does not, and the tests hold no SNS client. boto3 comes with moto.
"""

import json
import sys

import boto3


def main() -> None:
    job = json.load(sys.stdin)
    client = boto3.client(job["service"])
    response = getattr(client, job["operation"])(**job.get("params", {}))
    response.pop("ResponseMetadata", None)
    json.dump(response, sys.stdout, default=str)


if __name__ == "__main__":
    main()
