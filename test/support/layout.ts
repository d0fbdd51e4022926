import type { Page } from 'playwright-core';

/**
 * What people see, measured in the browser (axe cannot): layouts at phone and laptop sizes, touch targets, and form
 * controls whose states look different. The checks run as page scripts (strings: the test tsconfig has no DOM types).
 */

export const VIEWPORTS = {
  phoneSmall: { width: 360, height: 640 },
  phone: { width: 390, height: 844 },
  phoneLandscape: { width: 844, height: 390 },
  laptop: { width: 1366, height: 768 },
  desktop: { width: 1920, height: 1080 },
} as const;

const VISIBLE = `(el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && !el.closest('[hidden]') && !el.closest('.idv-visually-hidden'); }`;

/**
 * Horizontal overflow of the page and any visible element wider than the viewport or reaching past its sides.
 * Elements inside a scroll container of their own (a wide table in .idv-table-wrap) are that container's business.
 */
export async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(`(() => {
    const visible = ${VISIBLE};
    const out = [];
    const vw = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > vw + 1) out.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + vw);
    for (const el of document.querySelectorAll('main *, header *, dialog, dialog *')) {
      if (!visible(el) || el.closest('.idv-table-wrap')) continue;
      const r = el.getBoundingClientRect();
      if (r.left < -1 || r.right > vw + 1) {
        out.push((el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + [...el.classList].join('.')) + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right) + ' of ' + vw);
        if (out.length > 10) break;
      }
    }
    return out;
  })()`);
}

/**
 * Interactive elements smaller than `min` px in either direction (WCAG 2.5.5). Inline text links are exempt.
 * `within`: only the controls inside elements matching this selector (one part of a page, e.g. '#chat').
 */
export async function smallTargets(page: Page, min = 44, within?: string): Promise<string[]> {
  const parts = ['button', 'select', 'input:not([type=hidden]):not([type=radio]):not([type=checkbox])', 'textarea', 'a.utrecht-button', 'summary', '.idv-choice', '.choice', '.idv-header-link'];
  const sel = (within ? parts.map((p) => `${within} ${p}`) : parts).join(', ');
  return page.evaluate(`(() => {
    const visible = ${VISIBLE};
    const out = [];
    const sel = ${JSON.stringify(sel)};
    for (const el of document.querySelectorAll(sel)) {
      if (!visible(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.height < ${min} - 0.5 || r.width < ${min} - 0.5) out.push((el.id || el.textContent.trim().slice(0, 30) || el.tagName) + ': ' + Math.round(r.width) + 'x' + Math.round(r.height));
    }
    return out;
  })()`);
}

/** The computed look of an element: what tells its states apart. */
export async function lookOf(page: Page, selector: string): Promise<string> {
  return page.evaluate(`(() => {
    const el = document.querySelector(${JSON.stringify(selector)});
    if (!el) throw new Error('no ' + ${JSON.stringify(selector)});
    const s = getComputedStyle(el);
    return [s.backgroundColor, s.backgroundImage, s.borderTopColor, s.borderTopWidth, s.boxShadow, s.outlineStyle, s.outlineWidth, s.outlineColor, s.opacity, s.color].join(' | ');
  })()`);
}

/** Every pair of a checked and an unchecked radio button on the page, by selector; the first of each group. */
export async function radioPairs(page: Page): Promise<Array<{ checked: string; unchecked: string }>> {
  return page.evaluate(`(() => {
    const groups = new Map();
    for (const r of document.querySelectorAll('input[type=radio]')) {
      if (!r.id) continue;
      const g = groups.get(r.name) || {};
      if (r.checked && !g.checked) g.checked = '#' + CSS.escape(r.id);
      if (!r.checked && !g.unchecked) g.unchecked = '#' + CSS.escape(r.id);
      groups.set(r.name, g);
    }
    return [...groups.values()].filter((g) => g.checked && g.unchecked);
  })()`);
}

/** Whether the bottom of every visible element matching the selector is inside the viewport without scrolling. */
export async function withinViewport(page: Page, selector: string): Promise<string[]> {
  return page.evaluate(`(() => {
    const visible = ${VISIBLE};
    const out = [];
    const vw = document.documentElement.clientWidth, vh = window.innerHeight;
    for (const el of document.querySelectorAll(${JSON.stringify(selector)})) {
      if (!visible(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.top < -1 || r.left < -1 || r.bottom > vh + 1 || r.right > vw + 1) out.push((el.id || el.textContent.trim().slice(0, 30)) + ' at ' + [r.left, r.top, r.right, r.bottom].map(Math.round).join(','));
    }
    if (window.scrollY !== 0) out.push('the page is scrolled by ' + window.scrollY);
    return out;
  })()`);
}

export interface Box {
  width: number;
  height: number;
  left: number;
  top: number;
}

export async function box(page: Page, selector: string): Promise<Box> {
  return page.evaluate(`(() => {
    const r = document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect();
    return { width: r.width, height: r.height, left: r.left, top: r.top };
  })()`);
}

/** Number of rendered lines of an element's text (a value "on one line" gives 1). */
export async function lineCount(page: Page, selector: string): Promise<number> {
  return page.evaluate(`(() => {
    const el = document.querySelector(${JSON.stringify(selector)});
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
    return tops.size;
  })()`);
}

/** Whether a select shows its chosen option's text in full (its text fits the box minus padding and arrow). */
export async function selectTextFits(page: Page, selector: string): Promise<{ text: number; room: number }> {
  return page.evaluate(`(() => {
    const el = document.querySelector(${JSON.stringify(selector)});
    const s = getComputedStyle(el);
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = s.fontWeight + ' ' + s.fontSize + ' ' + s.fontFamily;
    const text = ctx.measureText(el.options[el.selectedIndex].text).width;
    // The drop-down arrow takes about 1.5em on the inline end.
    const room = el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight) - 1.5 * parseFloat(s.fontSize);
    return { text: Math.ceil(text), room: Math.floor(room) };
  })()`);
}

/** "14:05" in Amsterdam for each minute from `minutesBack` ago to one minute ahead (a test may cross a minute). */
export function amsterdamClocksAroundNow(minutesBack = 1): string[] {
  const fmt = new Intl.DateTimeFormat('nl-NL', { timeZone: 'Europe/Amsterdam', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const out: string[] = [];
  for (let m = -minutesBack; m <= 1; m++) out.push(fmt.format(new Date(Date.now() + m * 60_000)));
  return out;
}
