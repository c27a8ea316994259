/**
 * The stage names the client owns: the ones it measures with its own clock, or derives. Every other
 * stage name comes from the server (Server-Timing, a header, a body field). A profile may not map a
 * server value onto one of these: the two would be different clocks under one name.
 *
 *   total         intended send → response end (the client's end-to-end time)
 *   ttft          intended send → first streamed content token
 *   tpot          (total − ttft) ÷ (tokens − 1): time per output token after the first
 *   itl           every gap between two streamed content tokens (many samples per request)
 *   tokens_per_s  output tokens ÷ total, a rate (recorded in a histogram's ms slot as a number)
 *   unattributed  total − Σ server stages: time no server stage accounts for
 */

export const TOTAL_STAGE = 'total';
export const TTFT_STAGE = 'ttft';
export const TPOT_STAGE = 'tpot';
export const ITL_STAGE = 'itl';
export const TOKENS_PER_S_STAGE = 'tokens_per_s';
export const UNATTRIBUTED_STAGE = 'unattributed';

/** Stages measured only on streamed responses. */
export const STREAM_STAGES: readonly string[] = [TTFT_STAGE, TPOT_STAGE, ITL_STAGE, TOKENS_PER_S_STAGE];

/** Every stage the client measures or derives itself; no server source may claim one. */
export const CLIENT_STAGES: readonly string[] = [TOTAL_STAGE, ...STREAM_STAGES, UNATTRIBUTED_STAGE];

/** What a client stage measures, in words: "end-to-end time". */
export function clientStageMeaning(stage: string): string {
  if (stage === TOTAL_STAGE) return 'end-to-end time';
  if (stage === UNATTRIBUTED_STAGE) return 'time no server stage accounts for';
  return 'stream timing';
}
