import type { EventMessage } from '../../shared'
import type { Logger } from '../../engine/ports'

/** Receives every event; returns nothing. */
export type EventListener = (message: EventMessage) => void

/** Subscribes a listener to every event; returns the unsubscribe function. */
export type EventSubscribe = (listener: EventListener) => () => void

/** A fan-out point for events: the engine publishes, transports subscribe. */
export interface EventHub {
  publish(message: EventMessage): void
  subscribe: EventSubscribe
  clear(): void
}

/**
 * Creates an event hub. A listener that throws is logged and skipped, so one broken transport cannot stop
 * events reaching the others (or break the engine that published them).
 */
export function createEventHub(logger?: Logger): EventHub {
  const listeners = new Set<EventListener>()
  return {
    publish(message) {
      for (const listener of [...listeners]) {
        try {
          listener(message)
        } catch (err) {
          logger?.warn('An event listener failed', { event: message.event, error: String(err) })
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    clear() {
      listeners.clear()
    },
  }
}
