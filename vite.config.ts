import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';
import { tracewallApp } from './src/lib/server/vite-plugin.js';

export default defineConfig({
	plugins: [sveltekit(), tracewallApp()],
	test: {
		expect: { requireAssertions: true },
		projects: [
			{
				extends: './vite.config.ts',
				test: {
					name: 'unit',
					environment: 'node',
					// Property and simulation tests are CPU-bound: on a loaded two-core CI machine
					// they can outlast the 5 s default without anything being wrong.
					testTimeout: 30_000,
					include: [
						'src/**/*.{test,spec}.{js,ts}',
						'workers/**/*.{test,spec}.ts',
						'scripts/**/*.test.ts'
					]
				}
			},
			{
				// Real PGlite, real PostgreSQL (TEST_DATABASE_URL), real sockets on real ports.
				extends: './vite.config.ts',
				test: {
					name: 'integration',
					environment: 'node',
					include: ['tests/integration/**/*.test.ts'],
					testTimeout: 30_000,
					hookTimeout: 60_000,
					// Two cores: PGlite boots cost 2-3 s of CPU each; running files one by one keeps
					// timing-sensitive socket tests honest.
					fileParallelism: false
				}
			}
		]
	}
});
