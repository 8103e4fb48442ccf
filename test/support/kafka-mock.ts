import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// A Kafka-protocol broker for tests: librdkafka's in-memory mock cluster, run by a tiny C program
// (kafka-mock/mock-cluster.c) because Apache Kafka itself cannot run on the test machines.

const SOURCE = fileURLToPath(new URL('./kafka-mock/mock-cluster.c', import.meta.url));
const BINARY = fileURLToPath(new URL('../../node_modules/.cache/kafka-mock/mock-cluster', import.meta.url));
const STARTUP_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export interface KafkaMockTopic {
  name: string;
  partitions: number;
}

export interface KafkaMockOptions {
  /** Topics to pre-create: the mock has no CreateTopics API. */
  topics: KafkaMockTopic[];
  /**
   * Broker count; every topic is replicated to all of them. Defaults to 3 so that clients route
   * to several partition leaders and acks -1 waits on a real in-sync replica set.
   */
  brokers?: number;
}

export interface KafkaMock {
  /** host:port bootstrap servers, ports chosen by the OS. */
  brokers: string[];
  /** Shuts the cluster down; every message in it is gone. Safe to call twice. */
  stop(): Promise<void>;
}

/** The machine lacks a C compiler or librdkafka-dev, as opposed to the harness being broken. */
export class KafkaMockUnavailableError extends Error {
  override name = 'KafkaMockUnavailableError';
}

const execFileAsync = promisify(execFile);
let build: Promise<string> | undefined;

/** Compiles the mock once per process, and only when the C source is newer than the binary. */
export function buildKafkaMock(): Promise<string> {
  build ??= compileIfStale().catch((error: unknown) => {
    build = undefined;
    throw error;
  });
  return build;
}

/** Why the mock cannot be built here, or undefined when it can. */
export async function kafkaMockUnavailableReason(): Promise<string | undefined> {
  try {
    await buildKafkaMock();
    return undefined;
  } catch (error) {
    if (error instanceof KafkaMockUnavailableError) return error.message;
    throw error;
  }
}

/** Starts a fresh mock cluster with the given topics and waits until it accepts connections. */
export async function startKafkaMock(options: KafkaMockOptions): Promise<KafkaMock> {
  const binary = await buildKafkaMock();
  const args = [`--brokers=${options.brokers ?? 3}`, ...options.topics.map((t) => `${t.name}:${t.partitions}`)];
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  // The child exits when its stdin closes; an EPIPE from writing to a dead child is not news.
  child.stdin.on('error', () => {});
  const stderr = keepTail(child);

  const bootstraps = await firstLine(child, stderr);
  let stopping: Promise<void> | undefined;
  return {
    brokers: bootstraps.split(',').filter(Boolean),
    stop: () => (stopping ??= stopChild(child)),
  };
}

async function compileIfStale(): Promise<string> {
  const [source, binary] = await Promise.all([stat(SOURCE), stat(BINARY).catch(() => undefined)]);
  if (binary && binary.mtimeMs >= source.mtimeMs) return BINARY;

  await mkdir(dirname(BINARY), { recursive: true });
  // Parallel test workers may compile at once: each writes its own file and renames it atomically.
  const scratch = `${BINARY}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const compiler = process.env.CC ?? 'cc';
  try {
    await execFileAsync(compiler, ['-O1', '-Wall', '-o', scratch, SOURCE, '-lrdkafka']);
    await rename(scratch, BINARY);
    return BINARY;
  } catch (error) {
    await rm(scratch, { force: true });
    throw explainCompileFailure(error, compiler);
  }
}

function explainCompileFailure(error: unknown, compiler: string): Error {
  const { code, stderr } = error as { code?: unknown; stderr?: unknown };
  if (code === 'ENOENT') {
    return new KafkaMockUnavailableError(`no C compiler: '${compiler}' is not on PATH`);
  }
  const output = typeof stderr === 'string' ? stderr : '';
  if (/librdkafka\/rdkafka(_mock)?\.h|cannot find -lrdkafka/.test(output)) {
    return new KafkaMockUnavailableError('librdkafka-dev is not installed (apt-get install librdkafka-dev)');
  }
  return new Error(`compiling ${SOURCE} failed:\n${output}`, { cause: error });
}

/** Keeps draining the child's stderr (a full pipe would block it) and remembers the end for errors. */
function keepTail(child: ChildProcessWithoutNullStreams): () => string {
  let tail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4_000);
  });
  return () => tail.trim();
}

function firstLine(child: ChildProcessWithoutNullStreams, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const fail = (message: string) => {
      cleanup();
      child.kill('SIGKILL');
      const detail = stderr();
      reject(new Error(detail ? `${message}\n${detail}` : message));
    };
    const onLine = (line: string) => {
      cleanup();
      resolve(line.trim());
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`Kafka mock exited before printing its bootstrap servers (code ${code}, signal ${signal})`);
    const onError = (error: Error) => fail(`Kafka mock could not be started: ${error.message}`);
    const timer = setTimeout(
      () => fail(`Kafka mock printed no bootstrap servers within ${STARTUP_TIMEOUT_MS / 1000} s`),
      STARTUP_TIMEOUT_MS,
    );
    function cleanup() {
      clearTimeout(timer);
      lines.off('line', onLine);
      lines.close();
      child.off('exit', onExit);
      child.off('error', onError);
      // Nothing else is printed, but an unread pipe must not stall the child.
      child.stdout.resume();
    }
    lines.on('line', onLine);
    child.on('exit', onExit);
    child.on('error', onError);
  });
}

async function stopChild(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
