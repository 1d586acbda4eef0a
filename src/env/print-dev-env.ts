// From `nix print-dev-env --json` to an EnvSpec: keep exported strings, drop build-only noise.
import {type EnvSpec, NEVER_TOUCH, PATH_LIKE, isShellName} from './spec.js';

/** Set by stdenv's builder for the build sandbox; meaningless (or harmful) in an interactive shell. */
export const BUILD_ONLY = new Set([
  'NIX_BUILD_TOP', 'NIX_BUILD_CORES', 'NIX_STORE', 'NIX_LOG_FD', 'NIX_ENFORCE_PURITY', 'NIX_ENFORCE_NO_NATIVE',
  'TMP', 'TMPDIR', 'TEMP', 'TEMPDIR', 'builder', 'out', 'outputs', 'system', 'name', 'phases', 'stdenv',
  'shell', 'SHELL', 'HOME', 'PWD', 'OLDPWD', 'SHLVL', 'TERM', 'IN_NIX_SHELL', 'SOURCE_DATE_EPOCH', 'NIX_SSL_CERT_FILE',
  'SSL_CERT_FILE', 'passAsFile', 'args', 'buildInputs', 'nativeBuildInputs', 'propagatedBuildInputs',
  'propagatedNativeBuildInputs', 'depsBuildBuild', 'depsBuildTarget', 'depsHostHost', 'depsTargetTarget',
  'depsBuildBuildPropagated', 'depsBuildTargetPropagated', 'depsHostHostPropagated', 'depsTargetTargetPropagated',
  'strictDeps', 'doCheck', 'doInstallCheck', 'patches', 'configureFlags', 'cmakeFlags', 'mesonFlags', 'src',
  'preferLocalBuild', 'allowSubstitutes', '__structuredAttrs', 'packages', 'dontAddDisableDepTrack',
  // With __structuredAttrs: files in the build directory, which does not outlive the evaluation.
  'NIX_ATTRS_JSON_FILE', 'NIX_ATTRS_SH_FILE',
]);

interface DevEnvJson {
  variables: Record<string, {type: string; value: unknown}>;
  bashFunctions?: Record<string, string>;
}

export function fromPrintDevEnv(json: DevEnvJson): EnvSpec {
  const spec: EnvSpec = {vars: {}, prepend: {}};
  for (const [name, v] of Object.entries(json.variables ?? {})) {
    if (name === 'shellHook' && typeof v.value === 'string') {
      if (v.value.trim()) spec.shellHook = v.value;
      continue;
    }
    if (v.type !== 'exported' || typeof v.value !== 'string') continue;
    if (BUILD_ONLY.has(name) || NEVER_TOUCH.has(name) || !isShellName(name) || name.startsWith('DEVENV_') || name.startsWith('__DEVENV')) continue;
    if (name.endsWith('Phase') || name.startsWith('NIX_') && name.endsWith('_FOR_TARGET')) continue;
    if (PATH_LIKE.includes(name)) {
      const entries = v.value.split(':').filter((e) => e && e !== '/path-not-set' && !e.startsWith('/homeless-shelter'));
      if (entries.length) spec.prepend[name] = [...new Set(entries)];
      continue;
    }
    spec.vars[name] = v.value;
  }
  // shellHooks call stdenv's functions (addToSearchPath, runHook), as under `nix develop`.
  const fns = Object.entries(json.bashFunctions ?? {}).filter(([n, body]) => /^[A-Za-z_][A-Za-z0-9_:.-]*$/.test(n) && typeof body === 'string');
  if (spec.shellHook && fns.length) spec.bashFunctions = Object.fromEntries(fns);
  return spec;
}
