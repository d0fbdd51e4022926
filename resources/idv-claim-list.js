/*
 * Shared by the editors of idv-auth-method (claims) and idv-idcontact-core (attributes): the list of mappings from a
 * provider's name (claim or attribute tag) to our key, Dutch and English label and kind. Node-RED serves this file at
 * resources/@idvideo/node-red-id-video/idv-claim-list.js; the nodes' .html load it before registering.
 */
(function () {
  'use strict';
  var KINDS = ['text', 'bsn', 'date'];

  /** True when `value` (a JSON string or a list) is 1 to 50 mappings, each name and key once, all fields filled. */
  function valid(value, nameRe, keyRe) {
    var list;
    try { list = typeof value === 'string' ? JSON.parse(value) : value; } catch { return false; }
    if (!Array.isArray(list) || list.length < 1 || list.length > 50) return false;
    var keys = {}, names = {};
    for (var i = 0; i < list.length; i++) {
      var c = list[i] || {};
      if (!nameRe.test(c.claim || '') || !keyRe.test(c.key || '') || !c.labelNl || !c.labelEn) return false;
      if (KINDS.indexOf(c.kind || 'text') < 0) return false;
      if (keys[c.key] || names[c.claim]) return false;
      keys[c.key] = names[c.claim] = true;
    }
    return true;
  }

  /** Turns `ol` into an editable list holding the mappings of `json`; `namePlaceholder` is e.g. 'claim' or 'tag'. */
  function attach(ol, json, namePlaceholder) {
    var list = ol.css('min-height', '120px').editableList({
      addItem: function (row, i, c) {
        c = c || { kind: 'text' };
        var line = $('<div/>', { style: 'display:flex; gap:4px' }).appendTo(row);
        [['claim', namePlaceholder], ['key', 'key'], ['labelNl', 'label nl'], ['labelEn', 'label en']].forEach(function (f) {
          $('<input/>', { type: 'text', class: 'idv-map-' + f[0], placeholder: f[1], 'aria-label': f[1], style: 'flex:1; min-width:0' }).val(c[f[0]] || '').appendTo(line);
        });
        var kind = $('<select/>', { class: 'idv-map-kind', 'aria-label': 'kind', style: 'width:80px' }).appendTo(line);
        KINDS.forEach(function (k) { $('<option/>').val(k).text(k).appendTo(kind); });
        kind.val(c.kind || 'text');
      },
      removable: true,
      sortable: true
    });
    var current = [];
    try { current = JSON.parse(json || '[]'); } catch { current = []; }
    current.forEach(function (c) { list.editableList('addItem', c); });
  }

  /** The list's mappings as the JSON the node stores. */
  function read(ol) {
    var out = [];
    ol.editableList('items').each(function () {
      var r = $(this);
      out.push({
        claim: r.find('.idv-map-claim').val().trim(),
        key: r.find('.idv-map-key').val().trim(),
        labelNl: r.find('.idv-map-labelNl').val().trim(),
        labelEn: r.find('.idv-map-labelEn').val().trim(),
        kind: r.find('.idv-map-kind').val()
      });
    });
    return JSON.stringify(out);
  }

  window.IdvClaimList = { valid: valid, attach: attach, read: read };
})();
