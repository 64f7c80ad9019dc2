import { defineConfig } from 'drizzle-kit';

// Migrations are generated here and committed; the server applies them at start
// (src/lib/server/db/index.ts). `sample` partitioning lives in a hand-written custom migration.
export default defineConfig({
	dialect: 'postgresql',
	schema: './src/lib/server/db/schema/index.ts',
	out: './drizzle',
	strict: true,
	verbose: true
});
