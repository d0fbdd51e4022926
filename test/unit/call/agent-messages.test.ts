import { strict as assert } from 'node:assert';
import { AgentMessages, checkMessageText, MAX_MESSAGE_CHARS, type AgentMessage } from '../../../lib/call/agent-messages';
import { isUserError } from '../../../lib/errors';

async function code(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (isUserError(e)) return `${e.status} ${e.code}`;
    throw e;
  }
  return 'no error';
}

describe('call/agent-messages: short messages from the agent to a waiting resident', () => {
  const clock = Date.parse('2026-12-01T09:00:00Z');
  const delivered: Array<{ appointmentId: string; message: AgentMessage }> = [];
  let messages: AgentMessages;
  beforeEach(() => {
    delivered.length = 0;
    messages = new AgentMessages({ deliver: (appointmentId, message) => (delivered.push({ appointmentId, message }), 1), perMinute: 3, windowMs: 400, now: () => clock });
  });
  afterEach(() => messages.close());

  it('delivers a trimmed one-line text to that appointment only and keeps the latest for a page that connects later', async () => {
    const r = await messages.send('A1', 'agent1', '  Ik kom over\n5 minuten bij u.  ');
    assert.equal(r.delivered, 1);
    assert.deepEqual(delivered, [{ appointmentId: 'A1', message: { text: 'Ik kom over 5 minuten bij u.', at: '2026-12-01T09:00:00.000Z' } }]);
    assert.deepEqual(messages.latest('A1'), { text: 'Ik kom over 5 minuten bij u.', at: '2026-12-01T09:00:00.000Z' });
    assert.equal(messages.latest('A2'), undefined);
    messages.forget('A1');
    assert.equal(messages.latest('A1'), undefined, 'gone with the call');
  });

  it('keeps markup as text: escaping is the page\'s (textContent), the text is not altered or rejected for it', () => {
    assert.equal(checkMessageText('<b>5 min</b> & "zo"'), '<b>5 min</b> & "zo"');
  });

  it('refuses empty, too long, non-text and disguising input with a 400 that says what is wrong', async () => {
    assert.equal(await code(() => checkMessageText('   ')), '400 message_empty');
    assert.equal(await code(() => checkMessageText(undefined)), '400 message_invalid');
    assert.equal(await code(() => checkMessageText({ text: 'x' })), '400 message_invalid');
    assert.equal(await code(() => checkMessageText('x'.repeat(MAX_MESSAGE_CHARS + 1))), '400 message_too_long');
    assert.equal(checkMessageText('é'.repeat(MAX_MESSAGE_CHARS)).length, MAX_MESSAGE_CHARS, 'characters, not bytes');
    assert.equal(await code(() => checkMessageText('abc\u202Edef')), '400 message_invalid');
    assert.equal(await code(() => checkMessageText('bel\u0007')), '400 message_invalid');
    assert.equal(await code(() => messages.send('A1', 'agent1', '')), '400 message_empty');
    assert.equal(delivered.length, 0, 'nothing bad is pushed');
  });

  it('limits an agent per appointment per minute (429), without stopping other calls', async () => {
    for (let i = 0; i < 3; i++) await messages.send('A1', 'agent1', `bericht ${i}`);
    assert.equal(await code(() => messages.send('A1', 'agent1', 'nog een')), '429 rate_limited');
    assert.equal((await messages.send('A2', 'agent1', 'ander gesprek')).delivered, 1);
    assert.equal(messages.latest('A1')?.text, 'bericht 2', 'a refused message does not replace the shown one');
    // The limiter's window runs on the real clock (rate-limiter-flexible): wait for it to end, bounded.
    const end = Date.now() + 5_000;
    for (;;) {
      const r = await messages.send('A1', 'agent1', 'na het venster').then((x) => x.delivered, () => 0);
      if (r === 1) break;
      assert.ok(Date.now() < end, 'the limit ends with its window');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});
