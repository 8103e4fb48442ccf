import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  /** The gateway's address, when the role has one. */
  url?: string;
  /** Everything the process printed so far. */
  output: string[];
}

/** Runs `src/main.ts --role <role>` in its own process, as production does; resolves once started. */
export async function startServerProcess(role: 'all' | 'gateway' | 'workers', env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', '--import', '@swc-node/register/esm-register', 'src/main.ts', '--role', role], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
  });
  const output: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const started = new Promise<string | undefined>((resolve, reject) => {
    lines.on('line', (line) => {
      output.push(line);
      if (line.includes('"auction platform started"')) resolve((JSON.parse(line) as { url?: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`the ${role} process exited (${code}) before starting:\n${output.join('\n')}`)));
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the ${role} process did not start in time:\n${output.join('\n')}`)), 60_000);
  });
  try {
    return { child, url: await Promise.race([started, timeout]), output };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
