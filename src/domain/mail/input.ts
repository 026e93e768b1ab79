/**
 * The public input of `mail.send` (the contract's `MailInput`), as a strict
 * zod schema: shape, types and sizes. Semantic checks (address syntax,
 * CR/LF, structural headers, base64, recipient count) are `toMail`'s.
 */
import { z } from 'zod'
import { MAX_SUBJECT_LENGTH } from './message.ts'

/** "a@b.c", "Ann Example <a@b.c>", or a list of them. */
export const addressesSchema = z.union([z.string().max(4096), z.array(z.string().max(4096)).max(200)])

export const attachmentInputSchema = z
  .strictObject({
    filename: z.string().min(1).max(255),
    /** Standard base64 (RFC 4648 §4); whitespace allowed. */
    content: z.string().optional(),
    /** Instead of `content`: the id `POST /uploads` answered for the bytes. */
    uploadId: z.string().max(128).optional(),
    contentType: z.string().max(255).optional(),
    /** For inline images referenced as `cid:` from the HTML. */
    contentId: z.string().max(255).optional(),
  })
  .refine((attachment) => (attachment.content === undefined) !== (attachment.uploadId === undefined), {
    message: 'An attachment needs its content (base64) or an uploadId from POST /uploads, not both',
    path: ['content'],
  })

export const mailInputSchema = z
  .strictObject({
    from: z.string().max(4096).optional(),
    to: addressesSchema,
    cc: addressesSchema.optional(),
    bcc: addressesSchema.optional(),
    replyTo: addressesSchema.optional(),
    subject: z.string().max(MAX_SUBJECT_LENGTH),
    text: z.string().optional(),
    html: z.string().optional(),
    attachments: z.array(attachmentInputSchema).max(100).optional(),
    headers: z.record(z.string().max(200), z.string().max(4096)).optional(),
    threadId: z.string().max(128).optional(),
    inReplyTo: z.string().max(998).optional(),
    references: z.array(z.string().max(998)).max(100).optional(),
    idempotencyKey: z.string().min(1).max(256).optional(),
    sendAt: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((input) => input.text !== undefined || input.html !== undefined, {
    message: 'A message needs a text or an html body',
    path: ['text'],
  })

export type MailInput = z.infer<typeof mailInputSchema>
export type AttachmentInput = z.infer<typeof attachmentInputSchema>
