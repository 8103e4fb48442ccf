// `npm start` builds only when an input of the build changed since the last build: a restart with
// nothing changed goes straight to the server. The inputs are hashed rather than compared by mtime,
// so a checkout or a copy that touches files without changing them does not force a rebuild.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const stampFile = path.join(root, 'dist', '.build-hash');
const entry = path.join(root, 'dist', 'src', 'main.js');
const INPUT_DIRS = ['src', 'scripts', 'prisma'];
const INPUT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'prisma.config.ts'];
// Written by the build itself (Prisma's client), so never an input to it.
const GENERATED = path.join(root, 'src', 'generated');

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (full === GENERATED) continue;
    if (entry.isDirectory()) yield* files(full);
    else if (entry.isFile()) yield full;
  }
}

function inputsHash() {
  const hash = createHash('sha256');
  const all = [...INPUT_DIRS.flatMap((dir) => [...files(path.join(root, dir))]), ...INPUT_FILES.map((f) => path.join(root, f))];
  for (const file of all.sort()) {
    hash.update(path.relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

const hash = inputsHash();
const current = existsSync(entry) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === hash;
if (!current) {
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  writeFileSync(stampFile, hash);
}
