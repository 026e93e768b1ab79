/**
 * `admin.keys.*`: API keys made, listed and revoked at run time, for the
 * admin token only. Inputs are strict (an unknown field of a scope is
 * refused, never dropped); the key is in `create`'s answer and in no other.
 */
import { z } from 'zod'
import type { ApiKeyAdmin } from '../../../app/api-keys/admin.ts'
import { keyNameSchema } from '../../../app/api-keys/key-admin.ts'
import { keyScopeSchema } from '../../../domain/api-keys/scope-schema.ts'
import { ServiceError } from '../../../domain/errors.ts'
import type { TrpcContext } from './context.ts'
import { adminProcedure, router } from './init.ts'

function keysOf(ctx: { admin?: TrpcContext['admin'] | undefined }): ApiKeyAdmin {
  const keys = ctx.admin?.keys
  if (keys === undefined)
    throw new ServiceError('NOT_FOUND', 'API keys made at run time are not available on this server')
  return keys
}

export const adminKeysRouter = router({
  create: adminProcedure
    .input(z.strictObject({ name: keyNameSchema, scope: keyScopeSchema.optional() }))
    .mutation(({ ctx, input }) =>
      keysOf(ctx).create(
        input.scope === undefined ? { name: input.name } : { name: input.name, scope: input.scope },
      ),
    ),

  list: adminProcedure.query(({ ctx }) => keysOf(ctx).list()),

  revoke: adminProcedure
    .input(z.strictObject({ id: z.string().min(1).max(128) }))
    .mutation(({ ctx, input }) => keysOf(ctx).revoke(input.id)),
})
