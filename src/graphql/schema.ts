import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSchema } from 'graphql-yoga';
import type { GraphQLContext } from './context.ts';
import { resolvers } from './resolvers/index.ts';

// From src/graphql/ under tsx and from dist/graphql/ after `npm run build`: both sit two levels below the root,
// so the one copy of the SDL in schema/ serves both (the build does not copy it).
const schemaDir = fileURLToPath(new URL('../../schema/', import.meta.url));

/** The SDL in `schema/` (the same files codegen reads) with the typed resolvers. */
export function createChatSchema() {
  const typeDefs = readdirSync(schemaDir)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => readFileSync(schemaDir + file, 'utf8'));
  return createSchema<GraphQLContext>({ typeDefs, resolvers });
}
