/**
 * Fault injection: a queue per endpoint (one fault per request, in order)
 * and an optional random rate. The queue wins over the rate so that a test
 * can script an exact sequence on top of background noise.
 */
import type { EmulatorEndpoint, Fault, FaultRate } from './types.ts'

export function checkFault(fault: Fault): void {
  switch (fault.kind) {
    case 'status':
      if (!Number.isInteger(fault.status) || fault.status < 400 || fault.status > 599) {
        throw new RangeError(`Fault status must be an HTTP error status (400-599), got ${fault.status}`)
      }
      if (
        fault.retryAfterSeconds !== undefined &&
        (!Number.isInteger(fault.retryAfterSeconds) || fault.retryAfterSeconds < 0)
      ) {
        throw new RangeError('Fault retryAfterSeconds must be a non-negative integer')
      }
      if (fault.reason !== undefined && !/^[A-Za-z_]{1,64}$/.test(fault.reason)) {
        throw new RangeError('Fault reason must be letters and underscores, like userRateLimitExceeded')
      }
      return
    case 'delay':
      if (!Number.isFinite(fault.ms) || fault.ms < 0 || fault.ms > 600_000) {
        throw new RangeError('Fault delay must be between 0 and 600000 ms')
      }
      return
    case 'reset':
    case 'reset-after-send':
      return
  }
}

export class FaultInjector {
  #queues = new Map<EmulatorEndpoint, Fault[]>()
  #rates = new Map<EmulatorEndpoint, FaultRate>()

  inject(endpoint: EmulatorEndpoint, faults: Fault[]): void {
    for (const fault of faults) checkFault(fault)
    const queue = this.#queues.get(endpoint) ?? []
    queue.push(...faults.map((fault) => ({ ...fault })))
    this.#queues.set(endpoint, queue)
  }

  setRate(endpoint: EmulatorEndpoint, rate: FaultRate | undefined): void {
    if (rate === undefined || rate.probability === 0) {
      this.#rates.delete(endpoint)
      return
    }
    if (!(rate.probability > 0 && rate.probability <= 1)) {
      throw new RangeError('Fault probability must be between 0 and 1')
    }
    if (rate.faults.length === 0) throw new RangeError('A fault rate needs at least one fault to pick from')
    for (const fault of rate.faults) checkFault(fault)
    this.#rates.set(endpoint, { ...rate, faults: rate.faults.map((fault) => ({ ...fault })) })
  }

  /** The fault the next request of `endpoint` must suffer, if any. */
  next(endpoint: EmulatorEndpoint): Fault | undefined {
    const queued = this.#queues.get(endpoint)?.shift()
    if (queued !== undefined) return queued
    const rate = this.#rates.get(endpoint)
    if (rate === undefined) return undefined
    const random = rate.random ?? Math.random
    if (random() >= rate.probability) return undefined
    const index = Math.min(rate.faults.length - 1, Math.floor(random() * rate.faults.length))
    return rate.faults[index]
  }

  clear(): void {
    this.#queues.clear()
    this.#rates.clear()
  }
}
