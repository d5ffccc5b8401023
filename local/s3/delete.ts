/** DeleteObject. */
import { type Ctx, sendEmpty } from './respond.ts';
import type { Services } from './routes.ts';

export async function deleteObject(ctx: Ctx, { store }: Services): Promise<void> {
  await store.deleteObject(ctx.target.bucket, ctx.target.key);
  sendEmpty(ctx, 204);
}
