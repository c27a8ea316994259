export { startSim, type SimServer, type SimStats } from './server.js';
export { simCapacity, DEFAULTS as SIM_DEFAULTS, type SimOptions, type FaultKind, type Stall } from './model.js';
