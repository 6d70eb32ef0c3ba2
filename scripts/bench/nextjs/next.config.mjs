/** @type {import('next').NextConfig} */
export default {
  // better-sqlite3 is a native module: load it with Node's require, do not bundle it.
  serverExternalPackages: ['better-sqlite3'],
  poweredByHeader: false,
};
