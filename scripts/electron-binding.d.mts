/** Types of electron-binding.mjs (for the tests, which are TypeScript). */
export declare const BINDING_FILE: string
export declare function electronBindingDir(
  root: string,
  electronVersion: string,
  platform: string,
  arch: string,
): string
export declare function installedElectronVersion(root: string): string | null
export declare function prepareElectronBinding(opts: {
  root: string
  electronVersion?: string | null
  platform?: string
  arch?: string
  run?: (command: string, args: string[], cwd: string) => boolean
  log?: (line: string) => void
  nodeGyp?: string | null
  prebuild?: string | null
}): { file: string; error?: undefined } | { error: string; file?: undefined }
