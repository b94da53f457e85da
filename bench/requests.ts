// How every benchmark request is built: the load generator, the cursor walk and the depth sweep
// all take their headers from here, so a header every request needs (credentials, when the APIs
// require them) is added in one place.

/**
 * Headers for a request to the APIs; `json` when it carries a JSON body. Every target gets the
 * same bearer token (BENCH_AUTHORIZATION, minted by bench/run.ts); only ours with
 * authentication on verifies it.
 */
export function requestHeaders({ json = false } = {}): Record<string, string> {
  const authorization = process.env.BENCH_AUTHORIZATION;
  return {
    ...(authorization ? { authorization } : {}),
    ...(json ? { 'content-type': 'application/json' } : {}),
  };
}
