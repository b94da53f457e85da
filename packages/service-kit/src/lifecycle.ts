/** Process state that health checks read and shutdown writes. */
export class Lifecycle {
  #draining = false;

  get draining(): boolean {
    return this.#draining;
  }

  /** From now on /readyz answers 503 so load balancers stop sending new requests. */
  startDraining(): void {
    this.#draining = true;
  }
}
