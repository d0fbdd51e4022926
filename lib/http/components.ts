import { html, type SafeHtml } from './html';

/** One row of a data list: label, value, and whether the value keeps its line breaks (remarks). */
export type DataListItem = readonly [key: string, value: string, multiline?: boolean];

/**
 * NL Design System data list (Utrecht `utrecht-data-list`): label/value pairs such as a booking's review, the
 * appointment on a confirmation page or a caught mail's headers. Values are escaped text.
 */
export function dataList(items: ReadonlyArray<DataListItem>, extraClass = ''): SafeHtml {
  return html`<dl class="utrecht-data-list idv-summary-list${extraClass ? ` ${extraClass}` : ''}">
${items.map(([key, value, multi]) => html`<div class="utrecht-data-list__item"><dt class="utrecht-data-list__item-key">${key}</dt><dd class="utrecht-data-list__item-value utrecht-data-list__item-value--html-dd${multi ? ' utrecht-data-list__item-value--multiline' : ''}">${value}</dd></div>`)}
</dl>`;
}
