declare module 'node-red-node-test-helper' {
  interface TestNode {
    id: string;
    type: string;
    on(event: string, handler: (msg: Record<string, unknown>) => void): void;
    receive(msg: Record<string, unknown>): void;
    status: unknown;
    error: unknown;
    [key: string]: unknown;
  }
  interface Helper {
    init(runtimePath: string, settings?: Record<string, unknown>): void;
    load(nodes: unknown | unknown[], flow: unknown[], credentials?: Record<string, unknown>): Promise<void>;
    unload(): Promise<void>;
    /** A redeploy of the loaded flows ("full", "flows" or "nodes": only changed nodes restart). */
    setFlows(flow: unknown[], type?: 'full' | 'flows' | 'nodes', credentials?: Record<string, unknown>): Promise<void>;
    getNode(id: string): TestNode;
    startServer(): Promise<void>;
    stopServer(): Promise<void>;
    settings(s: Record<string, unknown>): Record<string, unknown>;
    log(): { args: unknown[][] } & Record<string, unknown>;
  }
  const helper: Helper;
  export default helper;
}
