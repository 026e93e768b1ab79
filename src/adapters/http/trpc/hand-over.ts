/**
 * Handing a message's input over to the use case, so that its attachments'
 * base64 (up to 47 MiB of text for a 35 MiB message) is not kept once the
 * message is composed. tRPC keeps the parsed JSON and zod's result for the
 * whole call, which `mail.send` holds open until the first delivery attempt;
 * so its raw copy lets go of the base64 as soon as zod has checked it
 * (`dropRawContents`), and the resolver passes the use case a copy of the
 * input that alone holds it (`handOver`), deleting it from zod's result.
 */
import type { MailInput } from '../../../domain/mail/input.ts'

/** Deletes the attachments' `content` from an input as tRPC parsed it: a message, or `{ messages }`. */
export function dropRawContents(raw: unknown): void {
  if (!isObject(raw)) return
  const messages = Array.isArray(raw['messages']) ? raw['messages'] : [raw]
  for (const message of messages) {
    if (!isObject(message) || !Array.isArray(message['attachments'])) continue
    for (const attachment of message['attachments']) if (isObject(attachment)) delete attachment['content']
  }
}

/** A copy of `input` (its attachments copied too) for the use case; `input`'s own attachments lose their content. */
export function handOver(input: MailInput): MailInput {
  if (input.attachments === undefined) return input
  const copy = { ...input, attachments: input.attachments.map((attachment) => ({ ...attachment })) }
  for (const attachment of input.attachments) delete attachment.content
  return copy
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}
