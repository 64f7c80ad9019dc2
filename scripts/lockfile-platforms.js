// Adds the platform packages of rollup that the registry mirror of our build machines does not
// serve to package-lock.json, so that `npm ci` accepts the lock file everywhere.
//
// Why: rollup (pulled in by @sveltejs/adapter-node) lists one optional package per platform.
// The registry reachable from our CI machines serves only the Linux glibc ones, so an
// `npm install` here records just those two and `npm ci` then refuses the lock file
// ("Missing: @rollup/rollup-darwin-x64@ from lock file"). The entries added here carry the
// platform fields (os, cpu, libc) so npm skips them on Linux; on a laptop npm fetches the one
// it needs from the public registry by name and version. Run after any dependency change:
//   node scripts/lockfile-platforms.js package-lock.json
/* eslint-disable @typescript-eslint/ban-ts-comment -- not type-checked on purpose */
// @ts-nocheck -- a plain Node script over npm's untyped lock-file JSON
import fs from 'node:fs';
const f = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(fs.readFileSync(f, 'utf8'));
const pk = lock.packages;
const cpuMap = {
	'arm-eabi': 'arm',
	'arm-gnueabihf': 'arm',
	'arm-musleabihf': 'arm',
	arm64: 'arm64',
	x64: 'x64',
	ia32: 'ia32',
	loong64: 'loong64',
	ppc64: 'ppc64',
	riscv64: 'riscv64',
	s390x: 's390x'
};
let added = [];
for (const [, meta] of Object.entries(pk)) {
	const opt = meta.optionalDependencies || {};
	for (const [name, range] of Object.entries(opt)) {
		const key = 'node_modules/' + name;
		if (pk[key]) continue;
		const m = /^@rollup\/rollup-([a-z0-9]+)-(.+?)(?:-(gnu|musl|msvc))?$/.exec(name);
		if (!m) {
			if (name !== 'fsevents') console.error('unhandled', name);
			continue;
		}
		const [, os, cpuPart, libc] = m;
		const cpu = cpuMap[cpuPart];
		if (!cpu) {
			console.error('cpu?', name);
			continue;
		}
		const e = { version: range, cpu: [cpu] };
		if (meta.dev) e.dev = true;
		if (os === 'linux' && libc) e.libc = [libc === 'gnu' ? 'glibc' : 'musl'];
		e.license = 'MIT';
		e.optional = true;
		e.os = [os];
		pk[key] = e;
		added.push(name);
	}
}
const sorted = {};
for (const k of Object.keys(pk).sort((a, b) =>
	a === '' ? -1 : b === '' ? 1 : a.localeCompare(b, 'en')
))
	sorted[k] = pk[k];
lock.packages = sorted;
fs.writeFileSync(f, JSON.stringify(lock, null, '\t') + '\n');
console.log('added', added.length, added.join(' '));
