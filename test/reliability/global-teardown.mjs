import fs from 'node:fs';
import sharedTeardown from '../helpers/global-teardown.mjs';

export default async function globalTeardown(globalConfig, projectConfig) {
  try {
    await sharedTeardown(globalConfig, projectConfig);
  } finally {
    const dir = process.env.TSIG_RELIABILITY_FIGURES;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}
