/**
 * Test support: the event half of Electron's objects (Tray, BrowserWindow,
 * WebContents, Notification, app). A double extends this and implements the
 * module's port, which is checked against Electron's own types.
 */
type Listener = (...args: never[]) => unknown;

export class FakeEmitter {
  private readonly listeners = new Map<string, Listener[]>();

  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }

  once(event: string, listener: Listener): this {
    const wrapped = (...args: never[]): unknown => {
      this.listeners.set(event, (this.listeners.get(event) ?? []).filter((entry) => entry !== wrapped));
      return listener(...args);
    };
    return this.on(event, wrapped);
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  /** Calls every listener of `event` with `args`, as Electron would. */
  emit(event: string, ...args: unknown[]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (...a: unknown[]) => unknown)(...args);
  }
}

/** Electron's event object, for events the modules may cancel. */
export class FakeEvent {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}
