/** Process state that health checks read and start-up and shutdown write. */
export class Lifecycle {
  #starting: boolean;
  #draining = false;

  /** starting: true until markStarted(), for a process that listens before it has migrated. */
  constructor(options: { starting?: boolean } = {}) {
    this.#starting = options.starting ?? false;
  }

  get starting(): boolean {
    return this.#starting;
  }

  get draining(): boolean {
    return this.#draining;
  }

  markStarted(): void {
    this.#starting = false;
  }

  /** From now on /readyz answers 503 so load balancers stop sending new requests. */
  startDraining(): void {
    this.#draining = true;
  }
}
