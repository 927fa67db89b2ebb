// Shared helpers of the dashboard pages (plain browser JavaScript, no build step).
export const axisColors = ['#ef5350', '#66bb6a', '#42a5f5'];

export function darkAxes() {
  const grid = { stroke: '#262d36', width: 1 };
  return [
    { stroke: '#8a94a3', grid, ticks: grid },
    { stroke: '#8a94a3', grid, ticks: grid, size: 55 },
  ];
}

export function chartWidth(element) {
  return Math.max(300, element.clientWidth - 16);
}

export function format(value, digits) {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}
