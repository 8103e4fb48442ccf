import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as glue from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type { Logger } from 'pino';

export type { SchemaEngine };

/** A Prisma schema file handed to the engine: the path only names it in messages. */
export interface SchemaFile {
  path: string;
  content: string;
}

// The project compiles without the DOM lib, which is where TypeScript keeps WebAssembly's types.
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, object>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

let engineModule: Promise<typeof glue> | undefined;

/**
 * Instantiates Prisma's schema engine (the `prisma migrate` engine built for WebAssembly). The
 * package's default entry imports the .wasm as an ES module, which Node does not do, so the bytes are
 * instantiated here against its JS glue. The glue keeps the instance in module state, hence one
 * instance per process, shared by every engine created afterwards.
 */
function loadEngineModule(): Promise<typeof glue> {
  engineModule ??= (async () => {
    const entry = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm');
    const bytes = await readFile(path.join(path.dirname(entry), 'schema_engine_bg.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })().catch((error: unknown) => {
    engineModule = undefined;
    throw error;
  });
  return engineModule;
}

/**
 * Runs `use` with a schema engine connected through `adapterFactory`, then frees the engine.
 * `schema` is only needed by commands that read the Prisma schema (creating a migration).
 */
export async function withSchemaEngine<T>(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  logger: Logger,
  schema: SchemaFile | undefined,
  use: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const { SchemaEngine } = await loadEngineModule();
  const engine = await SchemaEngine.new(
    { datamodels: schema ? [[schema.path, schema.content]] : undefined },
    (line: string) => logEngineLine(logger, line),
    bindMigrationAwareSqlAdapterFactory(adapterFactory),
  );
  try {
    return await use(engine);
  } finally {
    engine.free();
  }
}

interface EngineLogLine {
  level?: string;
  fields?: { message?: string } & Record<string, unknown>;
  target?: string;
}

// The engine reports progress (each migration's full script included) at INFO: that is our debug.
function logEngineLine(logger: Logger, line: string): void {
  let parsed: EngineLogLine;
  try {
    parsed = JSON.parse(line) as EngineLogLine;
  } catch {
    logger.debug({ engine: line.trim() }, 'schema engine');
    return;
  }
  const { message = 'schema engine', ...fields } = parsed.fields ?? {};
  const context = { ...fields, target: parsed.target };
  if (parsed.level === 'ERROR') logger.error(context, message);
  else if (parsed.level === 'WARN') logger.warn(context, message);
  else logger.debug(context, message);
}
