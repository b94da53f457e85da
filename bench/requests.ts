// How every benchmark request is built: the load generator, the cursor walk and the depth sweep
// all take their headers from here, so a header every request needs (credentials, when the APIs
// require them) is added in one place.

/** Headers for a request to the APIs; `json` when it carries a JSON body. */
export function requestHeaders({ json = false } = {}): Record<string, string> {
  return json ? { 'content-type': 'application/json' } : {};
}
