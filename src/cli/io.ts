/** What every command writes to and reads from, injected (main.ts builds the one real one). */
export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  color: boolean;
  /** stderr is a terminal: progress rewrites one line instead of printing periodic ones */
  tty: boolean;
  env: NodeJS.ProcessEnv;
}
