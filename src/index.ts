/** budgetgate's public API. Everything here is exported by name; nothing else is public. */
export { run, type RunOptions } from './api.js';
export { parseServerTiming, type ServerTimingMetric } from './core/server-timing.js';
export { parseProfile, parseProfileText, describeBudget, type ProfileResult, type EnvLookup } from './core/profile.js';
export type { Profile, Budget, Phase, Target, TimingRules, FallbackRule, PathName, LatencyKey } from './core/profile-types.js';
export { planSchedule, arrivals, scheduledPerSecond, type Plan, type PlannedPhase, type Arrival } from './core/schedule.js';
export { evaluateBudgets, type Measurements } from './core/budgets.js';
export { REPORT_SCHEMA, parseReport, serializeReport, type RunResult, type Verdict, type SeriesReport, type TimelinePoint, type PhaseReport } from './core/report.js';
export { decodeHistogram, encodeHistogram, mergeHistograms, summarize } from './core/histograms.js';
export { BudgetgateError, ProfileError, type ErrorKind, type ProfileProblem } from './core/errors.js';
export { renderTerminal } from './report/terminal.js';
export { startSim, simCapacity, type SimOptions, type SimServer } from './sim/index.js';
