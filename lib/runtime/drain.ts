import { EventEmitter } from 'node:events';
import type { Services } from '../services';

/**
 * Whether this instance is draining: it got SIGTERM and stops after its drain period (IDV_DRAIN_SECONDS). While
 * draining, /readyz answers 503 so the load balancer sends new visitors elsewhere, and the room directory lets this
 * instance open no new media room (calls already here go on until the process stops). Emits 'draining' once.
 */
export class DrainState extends EventEmitter<{ draining: [] }> {
  private on_ = false;

  get draining(): boolean {
    return this.on_;
  }

  begin(): void {
    if (this.on_) return;
    this.on_ = true;
    this.emit('draining');
  }
}

/** The drain state of these services (one per process). */
export function drainStateOf(services: Pick<Services, 'memo'>): DrainState {
  return services.memo('runtime.drain', () => new DrainState());
}
