import { writeFile } from 'node:fs/promises';
import { printGraphSchema } from '../src/http/print-schema.js';

await writeFile('schema.graphql', await printGraphSchema());
process.stdout.write('wrote schema.graphql\n');
