import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, ENV_VARIABLES, loadConfig } from '../../src/config/config.js';
import { loadDotEnv } from '../../src/config/env-file.js';

const ROOT = new URL('../../', import.meta.url);
const read = (file: string) => readFile(new URL(file, ROOT), 'utf8');

// Variables only the test set-up reads; they may be documented elsewhere, never in the server's table.
const isTestOnly = (name: string) => name.startsWith('TEST_');

/** The variables README's Configuration table documents, each row with a default and a meaning. */
async function readmeTable(): Promise<{ names: string[]; incompleteRows: string[] }> {
  const readme = await read('README.md');
  const section = /^## Configuration\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  const names: string[] = [];
  const incompleteRows: string[] = [];
  for (const row of rows) {
    const [variables = '', defaultValue = '', meaning = ''] = row.split(' | ').map((cell) => cell.replace(/^\| |\s*\|$/g, '').trim());
    names.push(...[...variables.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1]!));
    if (!defaultValue || !meaning) incompleteRows.push(row);
  }
  return { names, incompleteRows };
}

/** The variables .env.example mentions, commented out (`# NAME=`) or set. */
async function envExample(): Promise<{ names: string[]; active: Record<string, string> }> {
  const text = await read('.env.example');
  const names = [...text.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]!);
  return { names, active: parseEnv(text) as Record<string, string> };
}

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env, false);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`the configuration ${JSON.stringify(env)} was accepted`);
};

describe('the documented configuration', () => {
  it('lists every variable the server reads in README’s table, with a default and a meaning, and nothing it does not read', async () => {
    const { names, incompleteRows } = await readmeTable();
    expect(ENV_VARIABLES.filter((name) => !names.includes(name)), 'read but not in the table').toEqual([]);
    expect(names.filter((name) => !isTestOnly(name) && !(ENV_VARIABLES as string[]).includes(name)), 'in the table but never read').toEqual([]);
    expect(incompleteRows, 'rows without a default or a meaning').toEqual([]);
  });

  it('lists every variable the server reads in .env.example, and nothing it does not read', async () => {
    const { names } = await envExample();
    expect(ENV_VARIABLES.filter((name) => !names.includes(name)), 'read but not in .env.example').toEqual([]);
    expect(names.filter((name) => !isTestOnly(name) && !(ENV_VARIABLES as string[]).includes(name)), 'in .env.example but never read').toEqual([]);
  });

  it('gives each variable of .env.example a comment line above it saying what it means', async () => {
    const lines = (await read('.env.example')).split('\n');
    // A variable either follows its own description or shares one with the variables right above it.
    const undescribed = lines.flatMap((line, i) => {
      if (!/^# ?[A-Z][A-Z0-9_]*=/.test(line)) return [];
      let above = i - 1;
      while (above >= 0 && /^# ?[A-Z][A-Z0-9_]*=/.test(lines[above]!)) above--;
      return above >= 0 && /^# \S/.test(lines[above]!) ? [] : [line];
    });
    expect(undescribed).toEqual([]);
  });

  it('makes copying .env.example to .env change nothing', async () => {
    const { active } = await envExample();
    expect(loadConfig(active, false)).toEqual(loadConfig({}, false));
  });
});

describe('configuration errors', () => {
  it.each([
    [{ PORT: 'abc' }, 'PORT: must be a number (got "abc")'],
    [{ PORT: '70000' }, 'PORT: must be at most 65535 (got "70000")'],
    [{ PORT: '80.5' }, 'PORT: must be a whole number (got "80.5")'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
    [{ MIGRATE_ON_START: 'yes' }, 'MIGRATE_ON_START: must be one of 0, 1, true, false (got "yes")'],
    [{ KAFKA_BID_TOPIC: 'bid events' }, 'KAFKA_BID_TOPIC: may contain only letters, digits, ".", "_" and "-" (got "bid events")'],
    [{ PUBLIC_URL: 'auction.example.com' }, 'PUBLIC_URL: must be a URL such as https://auction.example.com (got "auction.example.com")'],
  ])('names the variable, the rule and the value it had for %j', (env, problem) => {
    expect(problemsOf(env)).toEqual([problem]);
  });

  it('names a secret variable and its rule without repeating its value', () => {
    const problems = problemsOf({ DATABASE_URL: 'mysql://auction:hunter2-password@db/auction', JWT_SECRET: 'too-short-secret' });
    expect(problems).toEqual(['DATABASE_URL: must start with postgres:// or postgresql://', 'JWT_SECRET: must be at least 32 characters']);
    expect(problems.join('\n')).not.toMatch(/hunter2|too-short-secret/);
  });

  it('reports every bad variable at once, one line each', () => {
    expect(problemsOf({ PORT: 'abc', LOG_LEVEL: 'loud', DATABASE_URL: '' })).toEqual([
      'PORT: must be a number (got "abc")',
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      'DATABASE_URL: must not be empty',
    ]);
  });

  it('requires JWT_SECRET in production, and only there', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['JWT_SECRET: required in production']);
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET: '  ' })).toEqual(['JWT_SECRET: must be at least 32 characters']);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }, false).auth.jwtSecret).toBe('x'.repeat(32));
    expect(loadConfig({ NODE_ENV: 'development' }, false).auth.jwtSecret).toBeUndefined();
  });

  it.each([
    [{ TWILIO_ACCOUNT_SID: 'AC123' }],
    [{ TWILIO_AUTH_TOKEN: 'secret-token' }],
    [{ TWILIO_ACCOUNT_SID: 'AC123', TWILIO_FROM_NUMBER: '+15005550006' }],
  ])('wants both Twilio credentials or neither, refusing %j', (env) => {
    expect(problemsOf(env)).toEqual(['TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: set both or neither']);
  });

  it('wants a sender with Twilio credentials, and takes either kind', () => {
    const credentials = { TWILIO_ACCOUNT_SID: 'AC123', TWILIO_AUTH_TOKEN: 'secret-token' };
    expect(problemsOf(credentials)).toEqual(['TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID: required with Twilio credentials']);
    expect(loadConfig({ ...credentials, TWILIO_FROM_NUMBER: '+15005550006' }, false).twilio).toMatchObject({ accountSid: 'AC123', from: '+15005550006' });
    expect(loadConfig({ ...credentials, TWILIO_MESSAGING_SERVICE_SID: 'MG123' }, false).twilio).toMatchObject({ messagingServiceSid: 'MG123' });
    expect(loadConfig({}, false).twilio).toBeUndefined();
  });

  it.each([[{ STRIPE_SECRET_KEY: 'sk_test_123' }], [{ STRIPE_WEBHOOK_SECRET: 'whsec_123', STRIPE_API_URL: 'http://localhost:12111' }]])(
    'wants both Stripe secrets or neither, refusing %j',
    (env) => {
      expect(problemsOf(env)).toEqual(['STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET: set both or neither']);
    },
  );

  it('configures Stripe only with both secrets, and a payment deadline always', () => {
    const stripe = { STRIPE_SECRET_KEY: 'sk_test_123', STRIPE_WEBHOOK_SECRET: 'whsec_123', STRIPE_API_URL: 'http://localhost:12111' };
    expect(loadConfig(stripe, false).stripe).toEqual({ secretKey: 'sk_test_123', webhookSecret: 'whsec_123', apiUrl: 'http://localhost:12111' });
    expect(loadConfig({}, false).stripe).toBeUndefined();
    expect(loadConfig({}, false).payments).toEqual({ deadlineHours: 96 });
    expect(loadConfig({ PAYMENT_DEADLINE_HOURS: '48' }, false).payments).toEqual({ deadlineHours: 48 });
    expect(problemsOf({ PAYMENT_DEADLINE_HOURS: '0' })).toEqual(['PAYMENT_DEADLINE_HOURS: must be at least 1 (got "0")']);
  });

  it('names a bad Stripe secret without repeating its value', () => {
    expect(problemsOf({ STRIPE_SECRET_KEY: '   ', STRIPE_WEBHOOK_SECRET: 'whsec_123' })).toEqual(['STRIPE_SECRET_KEY: must not be empty']);
  });

  it('reports the rules between variables together with every other problem, at once', () => {
    expect(problemsOf({ NODE_ENV: 'production', PORT: 'abc', TWILIO_AUTH_TOKEN: 'secret-token' })).toEqual([
      'PORT: must be a number (got "abc")',
      'JWT_SECRET: required in production',
      'TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: set both or neither',
    ]);
  });

  it("reports every bad entry of a list on its variable's one line", () => {
    const [problem, ...others] = problemsOf({ CORS_ORIGINS: 'ftp://files.example.com,not an origin' });
    expect(others).toEqual([]);
    expect(problem).toMatch(/^CORS_ORIGINS: .*ftp:\/\/files\.example\.com.*; .*not an origin/);
  });
});

describe('the .env file', () => {
  const saved = { ...process.env };
  let dir: string | undefined;

  afterEach(async () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fills in variables the environment lacks, and leaves those it sets alone', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'auction-env-'));
    const file = path.join(dir, '.env');
    await writeFile(file, 'AUCTION_ENV_FILE_ONLY=from-file\nAUCTION_ENV_BOTH=from-file\n');
    process.env.AUCTION_ENV_BOTH = 'from-environment';

    expect(loadDotEnv(file)).toBe(true);
    expect(process.env.AUCTION_ENV_FILE_ONLY).toBe('from-file');
    expect(process.env.AUCTION_ENV_BOTH).toBe('from-environment');
  });

  it('is optional: without one nothing changes', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'auction-env-'));
    const before = { ...process.env };
    expect(loadDotEnv(path.join(dir, '.env'))).toBe(false);
    expect(process.env).toEqual(before);
  });
});
