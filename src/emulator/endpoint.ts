/**
 * The wrapper every emulated endpoint goes through: it counts the call,
 * then plays the fault due for this request, if any, before (or, for
 * `reset-after-send`, after) the real handler.
 */
import type { Context } from 'hono'
import { destroyConnection } from './connection.ts'
import type { EmulatorContext } from './context.ts'
import type { EmulatorEndpoint, Fault } from './types.ts'

export type StatusFault = Extract<Fault, { kind: 'status' }>

export interface EndpointSpec {
  endpoint: EmulatorEndpoint
  /** How this endpoint words an error: Gmail JSON, OAuth JSON or an HTML page. */
  renderFault: (fault: StatusFault) => Response | Promise<Response>
}

export function faultable(
  context: EmulatorContext,
  spec: EndpointSpec,
  handler: (c: Context) => Promise<Response>,
): (c: Context) => Promise<Response> {
  return async (c) => {
    context.stats.calls[spec.endpoint]++
    const fault = context.faults.next(spec.endpoint)
    if (fault === undefined) return handler(c)
    context.stats.faultsInjected++
    switch (fault.kind) {
      case 'status':
        return spec.renderFault(fault)
      case 'delay':
        await new Promise((resolve) => setTimeout(resolve, fault.ms))
        return handler(c)
      case 'reset':
        return reset(c, spec)
      case 'reset-after-send':
        await handler(c)
        return reset(c, spec)
    }
  }
}

function reset(c: Context, spec: EndpointSpec): Response | Promise<Response> {
  // The response below goes nowhere once the socket is gone; off Node a 503 stands in for the reset.
  if (destroyConnection(c)) return new Response(null, { status: 503 })
  return spec.renderFault({ kind: 'status', status: 503 })
}
