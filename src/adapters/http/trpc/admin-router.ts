/** `admin.*`: the admin's procedures, for the admin token only (see `adminProcedure`). */
import { adminKeysRouter } from './admin-keys-router.ts'
import { adminWebhooksRouter } from './admin-webhooks-router.ts'
import { router } from './init.ts'

export const adminRouter = router({ keys: adminKeysRouter, webhooks: adminWebhooksRouter })
