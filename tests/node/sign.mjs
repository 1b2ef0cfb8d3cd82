// Signs GitHub webhook payloads with GitHub's official library, for the integration tests
// (tests/it/dev.rs). Reads a JSON list of {"secret", "payload"} on stdin and prints a JSON list
// of X-Hub-Signature-256 values.
import { sign, verify } from "@octokit/webhooks-methods";

let input = "";
for await (const chunk of process.stdin) {
  input += chunk;
}
const signatures = [];
for (const { secret, payload } of JSON.parse(input)) {
  const signature = await sign(secret, payload);
  if (!(await verify(secret, payload, signature))) {
    throw new Error("the library does not verify its own signature");
  }
  signatures.push(signature);
}
process.stdout.write(JSON.stringify(signatures));
