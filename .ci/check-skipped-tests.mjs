// Fails the CI run when it skipped a test that .ci/skipped-tests-allowed does not list, or more
// tests than it allows: a skip that nobody wrote down is a test that silently stopped running.
//
// Usage: node .ci/check-skipped-tests.mjs <vitest JSON report> <allowance file>
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [reportFile, allowanceFile] = process.argv.slice(2);
if (!reportFile || !allowanceFile) {
  console.error('usage: check-skipped-tests.mjs <vitest JSON report> <allowance file>');
  process.exit(2);
}

/** "<file> > <describe> > ... > <test>", the form the allowance file lists tests in. */
const idOf = (file, test) => [path.relative(process.cwd(), file), ...test.ancestorTitles, test.title].join(' > ');

const report = JSON.parse(readFileSync(reportFile, 'utf8'));
const skipped = report.testResults.flatMap((file) =>
  file.assertionResults.filter((test) => ['skipped', 'pending', 'todo'].includes(test.status)).map((test) => idOf(file.name, test)),
);

// The file: comments (#), one `allowed: N` line, and entries, each block of them under a comment saying why.
const problems = [];
let allowed;
const entries = [];
let reasonAbove = false;
for (const [index, raw] of readFileSync(allowanceFile, 'utf8').split('\n').entries()) {
  const line = raw.trim();
  if (line === '') reasonAbove = false;
  else if (line.startsWith('#')) reasonAbove = true;
  else if (line.startsWith('allowed:')) allowed = Number(line.slice('allowed:'.length));
  else if (!reasonAbove) problems.push(`${allowanceFile}:${index + 1}: an entry without a comment above it saying why it may be skipped`);
  else entries.push(line);
}
if (!Number.isInteger(allowed)) problems.push(`${allowanceFile}: no "allowed: <count>" line`);
else if (allowed !== entries.length) problems.push(`${allowanceFile}: says "allowed: ${allowed}" but lists ${entries.length} tests`);

// A test of the integration suite runs once per project, so one entry may be needed twice.
const unlisted = [];
const left = [...entries];
for (const id of skipped) {
  const at = left.indexOf(id);
  if (at === -1) unlisted.push(id);
  else left.splice(at, 1);
}
if (skipped.length > entries.length) problems.push(`${skipped.length} tests were skipped; ${allowanceFile} allows ${entries.length}`);
for (const id of unlisted) problems.push(`skipped but not listed in ${allowanceFile}: ${id}`);

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`${skipped.length} skipped tests, each listed in ${allowanceFile} (${entries.length} allowed)`);
