// What a health chart's uPlot canvas shows, read from its pixels: how much of the plot's width the
// line covers. The line is the only thing drawn in the page's accent colour (grid and labels use
// --border and --muted), so its leftmost and rightmost pixels bound what was plotted.
import type { Locator } from 'playwright-core';

/** The share (0..1) of the plot area's width the chart's line spans; 0 when nothing is drawn. */
export function lineCoverage(figure: Locator): Promise<number> {
  return figure.evaluate((fig) => {
    const canvas = fig.querySelector('.chart-plot canvas');
    const over = fig.querySelector('.chart-plot .u-over');
    const ctx = canvas instanceof HTMLCanvasElement ? canvas.getContext('2d') : null;
    if (!ctx || !(canvas instanceof HTMLCanvasElement) || !(over instanceof HTMLElement)) return 0;
    // The accent as the canvas stores it: paint one pixel of it on a scratch canvas and read it back.
    const probe = document.createElement('canvas').getContext('2d');
    if (!probe) return 0;
    probe.fillStyle = getComputedStyle(fig).getPropertyValue('--accent').trim();
    probe.fillRect(0, 0, 1, 1);
    const [r = 0, g = 0, b = 0] = probe.getImageData(0, 0, 1, 1).data;
    const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let min = Infinity;
    let max = -Infinity;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        const near = Math.abs((data[i] ?? 0) - r) + Math.abs((data[i + 1] ?? 0) - g) + Math.abs((data[i + 2] ?? 0) - b) < 40;
        if (near && (data[i + 3] ?? 0) > 200) {
          min = Math.min(min, x);
          max = Math.max(max, x);
        }
      }
    return max < min ? 0 : (max - min) / (over.offsetWidth * devicePixelRatio);
  });
}
