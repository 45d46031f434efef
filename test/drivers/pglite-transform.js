// PGlite's CommonJS build loads Node's built-in modules with `await import("fs")` and the like;
// jest's module sandbox refuses dynamic import() unless Node runs with --experimental-vm-modules.
// Every such import in those files names a built-in, so it becomes a require() (through an alias:
// some of those functions declare a local `var require`).
const crypto = require('node:crypto');

module.exports = {
  process(source) {
    const code = source.replace(/\bimport\(\s*("(?:node:)?[a-z_/]+")\s*\)/g, 'Promise.resolve().then(() => __pgliteRequire($1))');
    return { code: `const __pgliteRequire = require;${code}` };
  },
  getCacheKey(source, path) {
    return crypto.createHash('sha1').update('pglite-transform-2').update(path).update(source).digest('hex');
  },
};
