/** `admin.webhooks.*`: signed webhook endpoints and their deliveries. */
import { router } from './init.ts'

export const adminWebhooksRouter = router({})
