/** Runs one lifecycle command for a resolved key and turns its outcome into a material-free Reply. */
import { Inject, Injectable } from '@nestjs/common';
import { ok, type Reply } from '@ekm/contracts';
import { asKeyId, toKeyInfo, type CommandMeta, type KeyCommand, type KeyId, type KeyInfo } from '../../domain';
import { commandMeta, type CallContext } from '../../application/call-context';
import { HandleKeyCommand, type HandleOptions } from '../../application/handle-key-command';
import { KEY_COMMAND_HANDLER, type CommandOutcome } from '../../application/ports';
import { rejectionReply } from '../../application/call-failures';

export function outcomeReply(outcome: CommandOutcome): Reply<KeyInfo> {
  if (!outcome.ok) return rejectionReply(outcome.rejection);
  return ok(toKeyInfo(outcome.state) as KeyInfo);
}

@Injectable()
export class KeyCommandReplies {
  constructor(@Inject(KEY_COMMAND_HANDLER) private readonly handler: HandleKeyCommand) {}

  /** `build` gets the branded key id and the command meta (command id = operation + request id). */
  async run(
    call: CallContext & { keyId: string }, operation: KeyCommand['type'], build: (keyId: KeyId, meta: CommandMeta) => KeyCommand, opts?: HandleOptions,
  ): Promise<Reply<KeyInfo>> {
    return outcomeReply(await this.handler.handle(build(asKeyId(call.keyId), commandMeta(call, operation)), opts));
  }
}
