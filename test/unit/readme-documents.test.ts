import { readFile } from 'node:fs/promises';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printGraphSchema } from '../../src/http/print-schema.js';

const GUIDES = ['README.md'];

/** The ```graphql blocks of a markdown file, each with the line it starts on. */
async function graphqlBlocks(path: string): Promise<Array<{ line: number; text: string }>> {
  const lines = (await readFile(path, 'utf8')).split('\n');
  const blocks: Array<{ line: number; text: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```graphql') continue;
    const end = lines.findIndex((line, j) => j > i && line.trim() === '```');
    blocks.push({ line: i + 1, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

describe('the GraphQL in README.md', () => {
  it('is a valid operation against the emitted schema in every block, so a reader can paste it as it is', async () => {
    const schema = buildSchema(await printGraphSchema());
    const checked: string[] = [];
    for (const path of GUIDES) {
      for (const block of await graphqlBlocks(path)) {
        const errors = validate(schema, parse(block.text)).map((error) => error.message);
        expect({ at: `${path}:${block.line}`, errors }).toEqual({ at: `${path}:${block.line}`, errors: [] });
        checked.push(`${path}:${block.line}`);
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(8);
  });
});
