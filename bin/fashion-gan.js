#!/usr/bin/env node
// Entry point of the fashion-gan command line. The sources are TypeScript, run through
// ts-node without type checking (npm run build type-checks them), so no build step is needed.
require('ts-node').register({
  transpileOnly: true,
  project: require('path').join(__dirname, '..', 'tsconfig.json'),
});
require('../lib/cli/main').main(process.argv.slice(2));
