// Moves focus to the error summary after a failed submit, so keyboard and screen-reader users hear what went wrong
// first (WCAG 3.3.1). The page works without this script; it only improves where focus lands.
document.addEventListener('DOMContentLoaded', () => {
  const summary = document.getElementById('error-summary');
  if (summary) summary.focus();
});
