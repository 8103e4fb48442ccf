import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GUARD = path.join(ROOT, 'scripts', 'require-node.cjs');

/** The machine's own Node when it is older than engines.node (Node 20 on the development machines). */
function olderSystemNode(): string | undefined {
  try {
    const version = execFileSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).trim();
    return Number(version.slice(1).split('.')[0]) < 22 ? '/usr/bin/node' : undefined;
  } catch {
    return undefined;
  }
}

describe('the Node version guard in front of every npm script', () => {
  let project: string;

  /** Runs the guard as it runs inside the scratch project, whose engines.node each test writes. */
  const guard = () => spawnSync(process.execPath, [path.join(project, 'scripts', 'require-node.cjs')], { encoding: 'utf8' });

  beforeAll(async () => {
    project = await mkdtemp(path.join(tmpdir(), 'node-guard-'));
    await mkdir(path.join(project, 'scripts'));
    await copyFile(GUARD, path.join(project, 'scripts', 'require-node.cjs'));
  });
  afterAll(async () => {
    await rm(project, { recursive: true, force: true });
  });

  it('lets the Node that runs the tests through, silently', () => {
    const result = spawnSync(process.execPath, [GUARD], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('refuses a Node older than engines.node in one line naming the required version and how to get it', async () => {
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ engines: { node: '>=99.1' } }));
    const result = guard();
    expect(result.status).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('needs Node.js >=99.1');
    expect(lines[0]).toContain(`this is ${process.version}`);
    expect(lines[0]).toMatch(/nvm install/);
  });

  it('accepts a Node newer in the minor version than the one required', async () => {
    const [major] = process.versions.node.split('.');
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ engines: { node: `>=${major}.0` } }));
    expect(guard().status).toBe(0);
  });

  it('stops npm start on the machine\'s older Node before anything is built', (ctx) => {
    const node = olderSystemNode();
    if (!node) ctx.skip(true, 'no Node older than 22 at /usr/bin/node');
    const result = spawnSync('npm', ['start'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${path.dirname(node!)}:${process.env.PATH ?? ''}`, PORT: '0' },
      timeout: 60_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/auction-platform needs Node\.js >=22\.12 .* but this is v\d+\./);
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/prisma generate|tsc -p/);
  });
});
