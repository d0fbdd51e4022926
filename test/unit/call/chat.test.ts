import { strict as assert } from 'node:assert';
import { CallChat, checkMessageText, MAX_MESSAGE_CHARS, MAX_MESSAGES, type ChatMessage } from '../../../lib/call/chat';
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

describe('call/chat: the call\'s chat, also to a waiting resident (memory only)', () => {
  let clock = Date.parse('2026-12-01T09:00:00Z');
  const delivered: Array<{ appointmentId: string; message: ChatMessage }> = [];
  const recorded: string[] = [];
  let chat: CallChat;
  beforeEach(() => {
    delivered.length = 0;
    recorded.length = 0;
    clock = Date.parse('2026-12-01T09:00:00Z');
    chat = new CallChat({
      deliver: (appointmentId, message) => (delivered.push({ appointmentId, message }), 1),
      record: async (appointmentId, from, sender) => void recorded.push(`${appointmentId}|${from}|${sender}`),
      perWindow: 3,
      windowMs: 400,
      now: () => clock,
    });
  });
  afterEach(() => chat.close());

  it('delivers a cleaned one-line text of either side, keeps the history for a page that connects later, logs who (not what)', async () => {
    const r = await chat.send('A1', 'agent', 'agent1', '  Ik kom over\n5 minuten bij u.  ');
    assert.equal(r.delivered, 1);
    assert.deepEqual(delivered[0], { appointmentId: 'A1', message: { seq: 1, from: 'agent', text: 'Ik kom over 5 minuten bij u.', at: '2026-12-01T09:00:00.000Z' } });
    await chat.send('A1', 'resident', 'resident', 'Prima, ik wacht.');
    assert.deepEqual(chat.history('A1', 'resident').map((m) => `${m.seq}:${m.from}:${m.text}`), ['1:agent:Ik kom over 5 minuten bij u.', '2:resident:Prima, ik wacht.']);
    assert.deepEqual(chat.history('A1', 'agent', 1).map((m) => m.seq), [2], 'what is new after a seq');
    assert.deepEqual(chat.history('A2', 'resident'), []);
    assert.deepEqual(recorded, ['A1|agent|agent1', 'A1|resident|resident']);
    assert.ok(!recorded.join().includes('minuten'), 'the log line holds no text');
    assert.equal(chat.forget('A1'), true);
    assert.deepEqual(chat.history('A1', 'resident'), [], 'gone with the call');
  });

  it('a guest reads only what was written after they were let in', async () => {
    await chat.send('A1', 'resident', 'resident', 'mijn referentie is 12345');
    clock += 1000;
    assert.equal(chat.guestMayRead('A1', delivered[0].message), false);
    chat.guestAdmitted('A1');
    clock += 1000;
    await chat.send('A1', 'agent', 'agent1', 'De tolk is er.');
    assert.deepEqual(chat.history('A1', 'guest').map((m) => m.text), ['De tolk is er.']);
    assert.equal(chat.guestMayRead('A1', delivered[1].message), true);
  });

  it('keeps markup as text: escaping is the page\'s (textContent), the text is not altered or rejected for it', () => {
    assert.equal(checkMessageText('<b>5 min</b> & "zo"'), '<b>5 min</b> & "zo"');
  });

  it('applies the typed-text rule and refuses empty, too long and non-text input with a 400 that says what is wrong', async () => {
    assert.equal(checkMessageText('abc\u202Edef'), 'abcdef', 'a bidi override cannot disguise the text');
    assert.equal(checkMessageText('bel\u0007 mij'), 'bel mij');
    assert.equal(await code(() => checkMessageText('   ')), '400 message_empty');
    assert.equal(await code(() => checkMessageText('\u200b\u202e')), '400 message_empty');
    assert.equal(await code(() => checkMessageText(undefined)), '400 message_invalid');
    assert.equal(await code(() => checkMessageText({ text: 'x' })), '400 message_invalid');
    assert.equal(await code(() => checkMessageText('x'.repeat(MAX_MESSAGE_CHARS + 1))), '400 message_too_long');
    assert.equal(await code(() => checkMessageText('x'.repeat(1_000_000))), '400 message_too_long');
    assert.equal([...checkMessageText('é'.repeat(MAX_MESSAGE_CHARS))].length, MAX_MESSAGE_CHARS, 'characters, not bytes');
    assert.equal(checkMessageText('👩🏽‍💻'.repeat(MAX_MESSAGE_CHARS)).length > MAX_MESSAGE_CHARS, true, 'an emoji sequence counts as one');
    assert.equal(await code(() => chat.send('A1', 'agent', 'agent1', '')), '400 message_empty');
    assert.equal(delivered.length, 0, 'nothing bad is pushed');
  });

  it('keeps at most MAX_MESSAGES per chat, the oldest go', async () => {
    const many = new CallChat({ deliver: () => 0, perWindow: 10_000 });
    for (let i = 0; i < MAX_MESSAGES + 5; i++) await many.send('A1', 'agent', 'agent1', `bericht ${i}`);
    const h = many.history('A1', 'agent');
    assert.equal(h.length, MAX_MESSAGES);
    assert.equal(h[0].text, 'bericht 5');
    many.close();
  });

  it('ends a chat exactly KEEP after its last message (exact expiry, not node-cache\'s sweep)', async () => {
    const short = new CallChat({ deliver: () => 0, keepMinutes: 0.002 }); // 120 ms
    await short.send('A1', 'resident', 'resident', 'hallo');
    assert.equal(short.history('A1', 'resident').length, 1);
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(short.history('A1', 'resident').length, 0);
    assert.equal(short.size, 0);
    short.close();
  });

  it('limits a sender per appointment per window (429), without stopping the other side or other calls', async () => {
    for (let i = 0; i < 3; i++) await chat.send('A1', 'agent', 'agent1', `bericht ${i}`);
    assert.equal(await code(() => chat.send('A1', 'agent', 'agent1', 'nog een')), '429 rate_limited');
    assert.equal((await chat.send('A1', 'resident', 'resident', 'ik wel')).delivered, 1);
    assert.equal((await chat.send('A2', 'agent', 'agent1', 'ander gesprek')).delivered, 1);
    const end = Date.now() + 5_000;
    for (;;) {
      const r = await chat.send('A1', 'agent', 'agent1', 'na het venster').then((x) => x.delivered, () => 0);
      if (r === 1) break;
      assert.ok(Date.now() < end, 'the limit ends with its window');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});
