/**
 * Every fast-check property runs from a seed it prints on failure ("seed: 1234, path: …"); set
 * FC_SEED=1234 (and optionally FC_PATH) to replay exactly that run. No property passes its own seed.
 */
import fc from 'fast-check';

const seed = process.env.FC_SEED;
const path = process.env.FC_PATH;
if (seed !== undefined && seed !== '') {
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: Number(seed), ...(path ? { path } : {}) });
}
