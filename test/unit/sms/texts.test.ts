import assert from 'node:assert/strict';
import { countSegments, isGsm7 } from '../../../lib/sms/gsm7';
import { composeSms, shortDate } from '../../../lib/sms/texts';

const LINK = `https://videobellen.gemeente-voorbeeld.nl/v/${'A'.repeat(43)}`;
// A winter and a summer date, so the Amsterdam offset is tested both ways; the text shows Amsterdam time.
const WINTER = '2026-12-01T08:30:00.000Z';
const SUMMER = '2027-07-06T12:05:00.000Z';

describe('SMS texts', () => {
  it('fits the confirmation with a full access link into one GSM-7 segment', () => {
    for (const lang of ['nl', 'en'] as const) {
      const sms = composeSms('sms-confirmation', lang, { municipality: 'Gemeente Voorbeeld', start: WINTER, link: LINK });
      assert.equal(sms.segments, 1, sms.text);
      assert.equal(sms.encoding, 'GSM-7');
      assert.ok(sms.text.endsWith(LINK), 'the link is whole, at the end');
      assert.match(sms.text, /09:30/);
    }
    const nl = composeSms('sms-confirmation', 'nl', { municipality: 'Gemeente Voorbeeld', start: WINTER, link: LINK });
    assert.equal(nl.text, `Gemeente Voorbeeld: uw video-afspraak is op di 1 dec om 09:30. Link: ${LINK}`);
  });

  it('shows Amsterdam time in summer too', () => {
    const sms = composeSms('sms-confirmation', 'en', { municipality: 'Gemeente Voorbeeld', start: SUMMER, link: LINK });
    assert.equal(sms.text, `Gemeente Voorbeeld: video appointment on Tue 6 Jul at 14:05. Link: ${LINK}`);
    assert.equal(shortDate(SUMMER, 'nl'), 'di 6 jul');
  });

  it('takes a shorter form before it would need a second segment, and keeps a name GSM-7 lacks in GSM-7', () => {
    const long = 'Gemeente Súdwest-Fryslân en Noardeast-Fryslân';
    const sms = composeSms('sms-confirmation', 'nl', { municipality: long, start: WINTER, link: LINK });
    assert.equal(sms.segments, 1);
    assert.equal(isGsm7(sms.text), true);
    assert.ok(sms.text.endsWith(LINK));
    const longer = `https://videobellen.gemeente-voorbeeld.nl/een/heel/lang/pad/${'x'.repeat(40)}/v/${'A'.repeat(43)}`;
    const shortest = composeSms('sms-confirmation', 'nl', { municipality: long, start: WINTER, link: longer });
    assert.equal(shortest.text, `Video-afspraak di 1 dec 09:30: ${longer}`);
  });

  it('sends the shortest form in several parts when no form fits, never cutting the link', () => {
    const huge = `https://example.nl/${'p'.repeat(200)}`;
    const sms = composeSms('sms-confirmation', 'nl', { municipality: 'Gemeente Voorbeeld', start: WINTER, link: huge });
    assert.equal(sms.segments, countSegments(sms.text).segments);
    assert.ok(sms.segments >= 2);
    assert.ok(sms.text.includes(huge));
  });

  it("uses the administrator's own text first, and falls back when it does not fit", () => {
    const own = '{{municipality}} {{date}} {{time}} {{link}}';
    assert.equal(composeSms('sms-confirmation', 'nl', { municipality: 'Gemeente X', start: WINTER, link: LINK }, own).text, `Gemeente X di 1 dec 09:30 ${LINK}`);
    const wordy = `${'Lees dit goed. '.repeat(8)}{{link}}`;
    assert.equal(composeSms('sms-confirmation', 'nl', { municipality: 'Gemeente X', start: WINTER, link: LINK }, wordy).segments, 1);
  });

  it('refuses a link that is not one and a start that is no date', () => {
    assert.throws(() => composeSms('sms-confirmation', 'nl', { municipality: 'X', start: WINTER, link: 'javascript:alert(1)' }), /link/);
    assert.throws(() => composeSms('sms-confirmation', 'nl', { municipality: 'X', start: WINTER, link: `${LINK} extra` }), /link/);
    assert.throws(() => composeSms('sms-confirmation', 'nl', { municipality: 'X', start: 'morgen', link: LINK }), /start/);
  });

  it('has a reminder text for reminders to use', () => {
    const sms = composeSms('sms-reminder', 'nl', { municipality: 'Gemeente Voorbeeld', start: WINTER, link: LINK });
    assert.match(sms.text, /^Herinnering/);
    assert.equal(sms.segments, 1);
  });
});
