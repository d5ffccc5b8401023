/**
 * The suppression list in AWS: SES's account-level list (SESv2 PutSuppressedDestination), which SES itself
 * consults before it sends, so a suppressed address is never mailed again through the SES transport.
 * PutSuppressedDestination overwrites, so adding an address twice keeps one entry.
 */
import { PutSuppressedDestinationCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { SuppressionList, SuppressionReason } from '../../outbound/sesFeedback.ts';

export class SesSuppressionList implements SuppressionList {
  constructor(private readonly client: SESv2Client) {}

  async add(address: string, reason: SuppressionReason): Promise<void> {
    await this.client.send(
      new PutSuppressedDestinationCommand({
        EmailAddress: address,
        Reason: reason === 'bounce' ? 'BOUNCE' : 'COMPLAINT',
      }),
    );
  }
}
